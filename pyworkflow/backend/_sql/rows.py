"""Records to SQL parameters and back, the same for every SQL dialect.

Times become integer microseconds since the Unix epoch: exact (a float would
round, and deadlines are compared for equality), ordered, and an index on them
is a plain integer index. Payloads are JSON text; results go through the codec.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ... import codec
from ...decision import Timer
from ...engine.records import ActivityRecord, ProcessRecord, TimerRecord
from ...events import Event
from ...payload import dumps, loads

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime | None) -> int | None:
    return None if moment is None else (moment - EPOCH) // MICROSECOND


def from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else EPOCH + timedelta(microseconds=micros)


def _from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def encode_json(value: Any) -> str:
    return codec.dumps(value)


def decode_json(text: str | None) -> Any:
    return None if text is None else codec.loads(text)


def event_body(event: Event) -> str:
    return encode_json(event)


def _same(value: Any) -> Any:
    return value


# The columns of a run and of an activity, as every statement selects them (the
# statements say {runs} and {activities}), each with how its value is stored and
# read back. The derived ``due_at`` and ``wake_at`` are written, never read.
_RUN_COLUMNS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "run_id": (_same, _same),
    "process_id": (_same, _same),
    "workflow": (_same, _same),
    "category": (_same, _same),
    "decision_timeout": (_same, _same),
    "started_at": (to_micros, from_micros),
    "input": (dumps, loads),
    "tags": (dumps, loads),
    "parent_id": (_same, _same),
    "parent_run": (_same, _same),
    "child_policy": (_same, _same),
    "status": (_same, _same),
    "result": (lambda result: None if result is None else encode_json(result), decode_json),
    "closed_at": (to_micros, from_micros),
    "timeout_at": (to_micros, from_micros),
    "decision": (_same, _same),
    "decision_ready_at": (to_micros, from_micros),
    "decision_token": (_same, _same),
    "decision_deadline": (to_micros, from_micros),
    "decision_again": (int, bool),
    "decision_failures": (_same, _same),
    "decision_attempts": (_same, _same),
    "root_id": (_same, _same),
}

_ACTIVITY_COLUMNS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "run_id": (_same, _same),
    "process_id": (_same, _same),
    "activity_id": (_same, _same),
    "activity": (_same, _same),
    "category": (_same, _same),
    "scheduled_at": (to_micros, from_micros),
    "schedule_deadline": (to_micros, from_micros),
    "execution_timeout": (_same, _same),
    "heartbeat_timeout": (_same, _same),
    "input": (dumps, loads),
    "state": (_same, _same),
    "token": (_same, _same),
    "attempt": (_same, _same),
    "started_at": (to_micros, from_micros),
    "execution_deadline": (to_micros, from_micros),
    "heartbeat_deadline": (to_micros, from_micros),
    "cancel_requested": (int, bool),
    "root_id": (_same, _same),
}

RUN_COLUMNS = tuple(_RUN_COLUMNS)
ACTIVITY_COLUMNS = tuple(_ACTIVITY_COLUMNS)
# The columns an update may change (the others are fixed when the row is made),
# derived scheduling columns included.
RUN_UPDATABLE = (
    "status",
    "result",
    "closed_at",
    "timeout_at",
    "tags",
    "decision",
    "decision_ready_at",
    "decision_token",
    "decision_deadline",
    "decision_again",
    "decision_failures",
    "decision_attempts",
    "due_at",
    "wake_at",
)
ACTIVITY_UPDATABLE = (
    "state",
    "token",
    "attempt",
    "started_at",
    "execution_deadline",
    "heartbeat_deadline",
    "cancel_requested",
    "due_at",
)

Column = tuple[Callable[[Any], Any], Callable[[Any], Any]]
Storing = tuple[tuple[str, Callable[[Any], Any]], ...]


def _updating(columns: dict[str, Column], updatable: tuple[str, ...]) -> Storing:
    """How an update stores each column it may set that the record holds (the
    derived ones are computed apart)."""
    return tuple((name, columns[name][0]) for name in updatable if name in columns)


_RUN_UPDATES = _updating(_RUN_COLUMNS, RUN_UPDATABLE)
_ACTIVITY_UPDATES = _updating(_ACTIVITY_COLUMNS, ACTIVITY_UPDATABLE)


def _update_params(record: Any, updates: Storing, keys: tuple[str, ...]) -> dict[str, Any]:
    params = {name: store(getattr(record, name)) for name, store in updates}
    for key in keys:
        params[key] = getattr(record, key)
    return params


def run_params(run: ProcessRecord) -> dict[str, Any]:
    params = {name: store(getattr(run, name)) for name, (store, _) in _RUN_COLUMNS.items()}
    params["due_at"] = to_micros(run.due_at)
    params["wake_at"] = to_micros(run.wake_at)
    return params


def run_update_params(run: ProcessRecord) -> dict[str, Any]:
    """The key and the columns an update may set: an update runs inside the write
    lock, and encoding the rest (the input's JSON among it) would be work for
    nothing there."""
    params = _update_params(run, _RUN_UPDATES, ("run_id",))
    params["due_at"] = to_micros(run.due_at)
    params["wake_at"] = to_micros(run.wake_at)
    return params


def _fields(columns: dict[str, tuple[Any, Callable[[Any], Any]]], row: Sequence[Any]) -> Any:
    return {
        name: read(value) for (name, (_, read)), value in zip(columns.items(), row, strict=True)
    }


def run_from_row(row: Sequence[Any]) -> ProcessRecord:
    """A row of the {runs} columns."""
    return ProcessRecord(**_fields(_RUN_COLUMNS, row))


def stored_run(row: Sequence[Any], run: ProcessRecord) -> dict[str, Any]:
    """What the database holds for ``run``, read as ``row``, as parameters hold it:
    what an update compares its parameters with. The derived columns hold what
    the record derives, since every write of the row writes them from it."""
    stored = dict(zip(RUN_COLUMNS, row, strict=True))
    stored["due_at"] = to_micros(run.due_at)
    stored["wake_at"] = to_micros(run.wake_at)
    return stored


def activity_params(activity: ActivityRecord) -> dict[str, Any]:
    params = {
        name: store(getattr(activity, name)) for name, (store, _) in _ACTIVITY_COLUMNS.items()
    }
    params["due_at"] = to_micros(activity.due_at)
    return params


def activity_update_params(activity: ActivityRecord) -> dict[str, Any]:
    """As :func:`run_update_params`, for an activity."""
    params = _update_params(activity, _ACTIVITY_UPDATES, ("run_id", "activity_id"))
    params["due_at"] = to_micros(activity.due_at)
    return params


def activity_from_row(row: Sequence[Any]) -> ActivityRecord:
    """A row of the {activities} columns."""
    return ActivityRecord(**_fields(_ACTIVITY_COLUMNS, row))


def stored_activity(row: Sequence[Any], activity: ActivityRecord) -> dict[str, Any]:
    """As :func:`stored_run`, for an activity."""
    stored = dict(zip(ACTIVITY_COLUMNS, row, strict=True))
    stored["due_at"] = to_micros(activity.due_at)
    return stored


def timer_params(timer: TimerRecord) -> dict[str, Any]:
    return {
        "run_id": timer.run_id,
        "timer_id": timer.timer_id,
        "timer": encode_json(timer.timer),
        "due_at": to_micros(timer.due_at),
    }


def timer_from_row(row: tuple[Any, ...]) -> TimerRecord:
    timer = decode_json(row[2])
    assert isinstance(timer, Timer)
    return TimerRecord(run_id=row[0], timer_id=row[1], timer=timer, due_at=_from_micros(row[3]))
