"""Delivering a finished task's result to the backend, through passing failures.

A result is the product of work that may have taken hours: losing it to a
dropped connection means running the work again after its timeout, and a
decision lost the same way stalls its process. So a report that fails with a
:class:`~pyworkflow.exceptions.TransientBackendError` is tried again, with a
growing pause, until the backend records it or says the task is gone (an
:class:`~pyworkflow.exceptions.UnknownResourceException`): a result is given
up only when nobody waits for it any more, or when its worker was stopped and
the stop grace has passed.

Retrying is safe because each report names the task's claim token, and the
backend refuses a second report of one token. That refusal is ambiguous after
a failed try, though: the failed try may have committed and only its answer
been lost. The caller passes ``recorded``, which looks in the process history
for the result; a refusal whose result is there counts as delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .events import (
    ActivityEvent,
    DecisionEvent,
    DecisionFailedEvent,
    DecisionStartedEvent,
    DecisionTimedOutEvent,
    Event,
)
from .exceptions import TransientBackendError, UnknownResourceException
from .task import ActivityTask, DecisionTask

T = TypeVar("T")

FIRST_PAUSE = 0.05
MAX_PAUSE = 5.0
# How long a stopped worker keeps trying to deliver the result in hand.
DEFAULT_STOP_GRACE = 30.0
_SLICE = 0.05


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says only that the backend could not be reached just now.

    The one definition the workers use; the stores decide by raising a
    :class:`TransientBackendError` (a lost or refused connection, a server that
    stopped answering, a lock held past the busy timeout)."""
    return isinstance(error, TransientBackendError)


class ReportAbandoned(Exception):
    """The worker was stopped while the backend stayed unreachable: the result is
    not recorded, and the task will time out and be offered again."""


class Reporter:
    """Runs a report until it is recorded, retrying transient failures.

    ``stopped_for`` says how long ago the worker was asked to stop (None while it
    runs): past ``stop_grace`` the report is abandoned rather than keep a
    stopping worker alive forever behind an unreachable database."""

    def __init__(
        self,
        logger: logging.Logger,
        stopped_for: Callable[[], float | None],
        stop_grace: float = DEFAULT_STOP_GRACE,
        first_pause: float = FIRST_PAUSE,
        max_pause: float = MAX_PAUSE,
    ) -> None:
        self.logger = logger
        self._stopped_for = stopped_for
        self.stop_grace = stop_grace
        self.first_pause = first_pause
        self.max_pause = max_pause

    def deliver(
        self,
        what: str,
        send: Callable[[], T],
        recorded: Callable[[], bool],
        fields: dict[str, Any],
    ) -> T | None:
        """``send()``'s answer; None when a refusal followed a lost answer and
        ``recorded()`` found the result in the history. A refusal otherwise, and any
        error that is not transient, is raised; so is :class:`ReportAbandoned`."""
        pause = self.first_pause
        tries = 0
        while True:
            tries += 1
            try:
                return send()
            except UnknownResourceException:
                if tries > 1 and self._was_recorded(what, recorded, fields):
                    self.logger.info(
                        "%s was recorded by an earlier try whose answer was lost",
                        what,
                        extra={**fields, "tries": tries},
                    )
                    return None
                raise
            except TransientBackendError as error:
                if self._past_grace():
                    raise ReportAbandoned(
                        f"{what} not recorded: the worker stopped while the backend "
                        f"was unreachable ({error})"
                    ) from error
                self.logger.warning(
                    "%s not recorded yet, trying again in %.2fs: %s",
                    what,
                    pause,
                    error,
                    extra={**fields, "error": str(error), "tries": tries},
                )
                self._sleep(pause)
                pause = min(self.max_pause, pause * 2)

    def _was_recorded(
        self, what: str, recorded: Callable[[], bool], fields: dict[str, Any]
    ) -> bool:
        # Reading the history may meet the same blip: try that a few times too.
        pause = self.first_pause
        for _ in range(5):
            try:
                return recorded()
            except UnknownResourceException:
                return False
            except TransientBackendError as error:
                self.logger.warning(
                    "cannot tell whether %s was recorded: %s",
                    what,
                    error,
                    extra={**fields, "error": str(error)},
                )
                self._sleep(pause)
                pause = min(self.max_pause, pause * 2)
        return False

    def _past_grace(self) -> bool:
        stopped_for = self._stopped_for()
        return stopped_for is not None and stopped_for >= self.stop_grace

    def _sleep(self, seconds: float) -> None:
        """Pause, but wake early once the stop grace has run out."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0 and not self._past_grace():
            time.sleep(min(_SLICE, remaining))


def activity_result_recorded(history: list[Event], task: ActivityTask, result_type: str) -> bool:
    """Whether ``history`` ends, for ``task``'s activity, with a result of ``result_type``.

    Only the holder of the claim token can record a result other than a timeout,
    and every later claim appends a start event after it: so a last event for the
    activity that is such a result is the one this worker sent."""
    activity_id = task.activity_execution.id
    for event in reversed(history):
        execution = getattr(event, "activity_execution", None)
        if execution is None or execution.id != activity_id:
            continue
        return isinstance(event, ActivityEvent) and event.result.type == result_type
    return False


def decision_recorded(history: list[Event], task: DecisionTask, failed: bool = False) -> bool:
    """Whether ``history`` holds the decisions (or, with ``failed``, the decision
    failure) reported for ``task``: one appears after the task's own start event,
    before anything that ended the task another way (a timeout, a new claim).

    The history the task was handed ends with its start event, so what follows
    it in the history now is what happened since. Decisions that were an empty
    list leave no trace, and are never found."""
    handed = task.process.history
    seen = len(handed)
    if len(history) < seen or history[seen - 1] != handed[-1]:
        return False  # another run (continued as new), or not the history handed out
    wanted = DecisionFailedEvent if failed else DecisionEvent
    for event in history[seen:]:
        if isinstance(event, wanted):
            return True
        if isinstance(
            event, (DecisionEvent, DecisionFailedEvent, DecisionTimedOutEvent, DecisionStartedEvent)
        ):
            return False
    return False
