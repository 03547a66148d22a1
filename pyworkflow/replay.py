"""Replay: run a decider again over a recorded history, before its new code is deployed.

``decide(process)`` is a function of the history, so at every point where a decision
was recorded, the new code can be shown the history as it stood then and must reach
the same decisions. Retry bookkeeping is part of what is compared, so a change of
retry policy that would alter a running process shows up too.

Ids that pyworkflow generates (a ``ScheduleActivity`` or child process without an
id) are new uuids on every run; they are compared by position: an id in the
canonical uuid form matches any other id of that form in the same place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from . import codec
from .activity import Activity
from .decision import Decision
from .events import Event
from .exceptions import PyworkflowError
from .history_json import process_from_json
from .process import Process
from .retrying import decide_with_retries
from .workflow import Workflow, normalize_decisions

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_GENERATED = "<generated id>"
_SKIPPED = ("decision_failed", "decision_timed_out")


class ReplayMismatch(PyworkflowError, AssertionError):
    """The new code decided differently at one recorded decision point."""

    def __init__(
        self,
        point: int,
        event_index: int,
        recorded: list[Decision],
        replayed: list[Decision],
        error: Exception | None = None,
    ) -> None:
        self.point = point
        self.event_index = event_index
        self.recorded = recorded
        self.replayed = replayed
        self.error = error
        new = (
            f"raises {type(error).__name__}: {error}" if error else f"decides {_describe(replayed)}"
        )
        super().__init__(
            f"decision point {point} (history event {event_index}): recorded "
            f"{_describe(recorded)}, the new code {new}"
        )


class DecisionPoint:
    """A decision that went through: the history its decider saw, and what it decided."""

    def __init__(self, number: int, event_index: int, seen: list[Event], decided: list[Decision]):
        self.number = number
        self.event_index = event_index
        self.seen = seen
        self.decided = decided


def decision_points(process: Process) -> Iterator[DecisionPoint]:
    """Every completed decision of ``process``; failed and timed-out ones decided nothing,
    and the last one of an open process may still be in progress."""
    history = process.history
    starts = [index for index, event in enumerate(history) if event.type == "decision_started"]
    number = 0
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(history)
        window = history[start + 1 : end]
        if any(event.type in _SKIPPED for event in window):
            continue
        decided = [event.decision for event in window if event.type == "decision"]  # type: ignore[attr-defined]
        if not decided and end == len(history) and process.is_open:
            continue
        number += 1
        yield DecisionPoint(number, start, history[: start + 1], decided)


def replay(workflow_class: type[Workflow], history: Process | dict[str, Any] | str) -> int:
    """Re-run ``workflow_class``'s decider at every decision point of ``history`` (a
    Process, the JSON of ``pyworkflow process show --json``, or that JSON parsed) and
    compare with the recorded decisions. Returns how many points were checked; raises
    :class:`ReplayMismatch` at the first that differs."""
    process = _as_process(history)
    activities: dict[str, type[Activity]] = {a.name: a for a in workflow_class.activities}
    checked = 0
    for point in decision_points(process):
        seen = Process(
            workflow=process.workflow,
            id=process.id,
            input=process.input,
            tags=process.tags,
            parent=process.parent,
            history=list(point.seen),
        )
        try:
            replayed = decide_with_retries(_decider(workflow_class()), seen, activities)
        except Exception as error:  # where the old code decided, the new one cannot
            raise ReplayMismatch(
                point.number, point.event_index, point.decided, [], error
            ) from error
        replayed = _until_closed(replayed)
        if _comparable(replayed) != _comparable(point.decided):
            raise ReplayMismatch(point.number, point.event_index, point.decided, replayed)
        checked += 1
    return checked


def _decider(workflow: Workflow) -> Callable[[Process], list[Decision]]:
    return lambda shown: normalize_decisions(workflow.decide(shown), shown)


def _as_process(history: Process | dict[str, Any] | str) -> Process:
    if isinstance(history, Process):
        return history
    if isinstance(history, str):
        history = json.loads(history)
    return process_from_json(history)


def _until_closed(decisions: list[Decision]) -> list[Decision]:
    """A process records nothing after the decision that closes it."""
    for index, decision in enumerate(decisions):
        if decision.closes_process:
            return decisions[: index + 1]
    return decisions


def _comparable(decisions: list[Decision]) -> Any:
    """Decisions as JSON carries them (as stored), generated ids made positional."""
    text = json.dumps(_timeless(codec.encode(list(decisions))), sort_keys=True)
    return _UUID.sub(_GENERATED, text)


def _timeless(data: Any) -> Any:
    """Event times inside a decision (a child's history) never match, nor matter."""
    if isinstance(data, list):
        return [_timeless(item) for item in data]
    if isinstance(data, dict):
        return {key: _timeless(item) for key, item in data.items() if key != "datetime"}
    return data


def _describe(decisions: list[Decision]) -> str:
    return "[" + ", ".join(repr(decision) for decision in decisions) + "]" if decisions else "[]"
