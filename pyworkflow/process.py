"""Processes: one execution of a workflow, its history, status and result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from ._naming import name_of
from ._value import Value
from .activity import ActivityExecution
from .decision import CancelTimer, ScheduleActivity, Timer
from .events import DecisionEvent, Event, ProcessStartedEvent


class ProcessStatus:
    OPEN = "open"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued_as_new"

    CLOSED = (COMPLETED, FAILED, CANCELED, TIMED_OUT, TERMINATED, CONTINUED_AS_NEW)
    ALL = (OPEN, *CLOSED)


class ProcessResult(Value):
    type: ClassVar[str] = ""
    status: ClassVar[str] = ""


class ProcessCompleted(ProcessResult):
    type = "completed"
    status = ProcessStatus.COMPLETED
    _fields = ("result",)

    def __init__(self, result: Any = None) -> None:
        self.result = result


class InterruptedProcessResult(ProcessResult, Exception):
    __hash__ = ProcessResult.__hash__


class ProcessCanceled(InterruptedProcessResult):
    type = "canceled"
    status = ProcessStatus.CANCELED
    _fields = ("details",)

    def __init__(self, details: Any = None) -> None:
        Exception.__init__(self, details)
        self.details = details


class ProcessFailed(InterruptedProcessResult):
    type = "failed"
    status = ProcessStatus.FAILED
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None) -> None:
        Exception.__init__(self, reason)
        self.reason = reason
        self.details = details


class ProcessTimedOut(InterruptedProcessResult):
    type = "timedout"
    status = ProcessStatus.TIMED_OUT
    _fields = ("details",)

    def __init__(self, details: Any = None) -> None:
        Exception.__init__(self, details)
        self.details = details


class ProcessTerminated(InterruptedProcessResult):
    type = "terminated"
    status = ProcessStatus.TERMINATED
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None) -> None:
        Exception.__init__(self, reason)
        self.reason = reason
        self.details = details


class ProcessContinuedAsNew(ProcessResult):
    """This run handed over to a new run of the same process id, with ``input``."""

    type = "continued_as_new"
    status = ProcessStatus.CONTINUED_AS_NEW
    _fields = ("input",)

    def __init__(self, input: Any = None) -> None:
        self.input = input


class Process(Value):
    """Compared by workflow, id, input, tags, parent and history; status,
    result and times describe where the process stands and take no part in equality.

    A backend listing many processes passes ``history_loader`` instead of a
    history, so that a list costs one row per process; the history is fetched
    the first time it is read.
    """

    _fields = ("workflow", "id", "input", "tags", "parent", "history")

    def __init__(
        self,
        workflow: Any = None,
        id: str | None = None,
        input: Any = None,
        tags: list[str] | None = None,
        history: list[Event] | None = None,
        parent: str | None = None,
        status: str = ProcessStatus.OPEN,
        result: ProcessResult | None = None,
        started_at: datetime | None = None,
        closed_at: datetime | None = None,
        history_loader: Callable[[], list[Event]] | None = None,
    ) -> None:
        self.workflow = None if workflow is None else name_of(workflow)
        self.id = id
        self.input = input
        self.tags = list(tags or [])
        self._history_loader = history_loader
        self._history: list[Event] | None = history
        if history is None and history_loader is None:
            self._history = [ProcessStartedEvent()]
        self.parent = parent
        self.status = status
        self.result = result
        self.started_at = started_at
        self.closed_at = closed_at

    @property
    def history(self) -> list[Event]:
        if self._history is None:
            assert self._history_loader is not None
            self._history = self._history_loader()
            self._history_loader = None
        return self._history

    @history.setter
    def history(self, events: list[Event]) -> None:
        self._history = events
        self._history_loader = None

    @property
    def is_open(self) -> bool:
        return self.status == ProcessStatus.OPEN

    def copy_with_id(self, id: str, **kwargs: Any) -> Process:
        fields = dict(workflow=self.workflow, input=self.input, tags=self.tags, parent=self.parent)
        fields.update(kwargs)
        return Process(id=id, **fields)

    def has_event(self, event: Event) -> bool:
        return event in self.history

    def has_decision(self, decision: Any) -> bool:
        return self.has_event(DecisionEvent(decision))

    def unseen_events(self) -> list[Event]:
        """The events the current decision is to act on, in order, as in 2014:
        leave out the last event (the ``decision_started`` that opened this
        decision), then take the events after the latest remaining
        ``decision_started``, decisions included (all events if there is none).

        A decision attempt that failed or timed out saw nothing, so its
        ``decision_started`` does not count: its events stay unseen.
        """
        start, end = self._unseen_bounds()
        return self.history[start:end]

    def _unseen_bounds(self) -> tuple[int, int]:
        history = self.history
        end = max(len(history) - 1, 0)
        seen_until = -1
        attempt = None
        for index in range(end):
            kind = history[index].type
            if kind == "decision_started":
                if attempt is not None:
                    seen_until = attempt
                attempt = index
            elif kind in ("decision_failed", "decision_timed_out"):
                attempt = None
        if attempt is not None:
            seen_until = attempt
        return seen_until + 1, end

    def unfinished_activities(self) -> list[ActivityExecution]:
        finished = set()
        scheduled = []
        for event in self.history:
            if event.type == "activity":
                finished.add(event.activity_execution.id)  # type: ignore[attr-defined]
            elif event.type == "decision" and isinstance(event.decision, ScheduleActivity):  # type: ignore[attr-defined]
                decision = event.decision  # type: ignore[attr-defined]
                scheduled.append(ActivityExecution(decision.activity, decision.id, decision.input))
        return [execution for execution in scheduled if execution.id not in finished]

    def untriggered_timers(self, disregard_unseen: bool = False) -> list[Timer]:
        history = self.history
        if disregard_unseen:
            history = history[: self._unseen_bounds()[0]]
        decided = [event.decision for event in self.history if event.type == "decision"]  # type: ignore[attr-defined]
        timers = [decision for decision in decided if isinstance(decision, Timer)]
        canceled = {decision.id for decision in decided if isinstance(decision, CancelTimer)}
        fired = [event.timer for event in history if event.type == "timer"]  # type: ignore[attr-defined]
        return [
            timer
            for timer in timers
            if timer not in fired and (timer.id is None or timer.id not in canceled)
        ]
