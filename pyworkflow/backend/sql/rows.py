"""Records to SQL parameters and back, the same for every SQL dialect.

Times become integer microseconds since the Unix epoch: exact (a float would
round, and deadlines are compared for equality), ordered, and an index on them
is a plain integer index. Payloads are JSON text; results go through the codec.
"""

from __future__ import annotations

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


def run_params(run: ProcessRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "process_id": run.process_id,
        "workflow": run.workflow,
        "category": run.category,
        "decision_timeout": run.decision_timeout,
        "started_at": to_micros(run.started_at),
        "input": dumps(run.input),
        "tags": dumps(run.tags),
        "parent_id": run.parent_id,
        "parent_run": run.parent_run,
        "child_policy": run.child_policy,
        "status": run.status,
        "result": None if run.result is None else encode_json(run.result),
        "closed_at": to_micros(run.closed_at),
        "timeout_at": to_micros(run.timeout_at),
        "decision": run.decision,
        "decision_ready_at": to_micros(run.decision_ready_at),
        "decision_token": run.decision_token,
        "decision_deadline": to_micros(run.decision_deadline),
        "decision_again": int(run.decision_again),
        "decision_failures": run.decision_failures,
        "decision_attempts": run.decision_attempts,
        "due_at": to_micros(run.due_at),
    }


def run_from_row(row: tuple[Any, ...]) -> ProcessRecord:
    """A row in the column order of the ``get_run`` family of statements."""
    return ProcessRecord(
        run_id=row[0],
        process_id=row[1],
        workflow=row[2],
        category=row[3],
        decision_timeout=row[4],
        started_at=_from_micros(row[5]),
        input=loads(row[6]),
        tags=loads(row[7]),
        parent_id=row[8],
        parent_run=row[9],
        child_policy=row[10],
        status=row[11],
        result=decode_json(row[12]),
        closed_at=from_micros(row[13]),
        timeout_at=from_micros(row[14]),
        decision=row[15],
        decision_ready_at=from_micros(row[16]),
        decision_token=row[17],
        decision_deadline=from_micros(row[18]),
        decision_again=bool(row[19]),
        decision_failures=row[20],
        decision_attempts=row[21],
    )


def activity_params(activity: ActivityRecord) -> dict[str, Any]:
    return {
        "run_id": activity.run_id,
        "activity_id": activity.activity_id,
        "process_id": activity.process_id,
        "activity": activity.activity,
        "category": activity.category,
        "scheduled_at": to_micros(activity.scheduled_at),
        "schedule_deadline": to_micros(activity.schedule_deadline),
        "execution_timeout": activity.execution_timeout,
        "heartbeat_timeout": activity.heartbeat_timeout,
        "input": dumps(activity.input),
        "state": activity.state,
        "token": activity.token,
        "attempt": activity.attempt,
        "started_at": to_micros(activity.started_at),
        "execution_deadline": to_micros(activity.execution_deadline),
        "heartbeat_deadline": to_micros(activity.heartbeat_deadline),
        "cancel_requested": int(activity.cancel_requested),
        "due_at": to_micros(activity.due_at),
    }


def activity_from_row(row: tuple[Any, ...]) -> ActivityRecord:
    """A row in the column order of the ``get_activity`` family of statements."""
    return ActivityRecord(
        run_id=row[0],
        process_id=row[1],
        activity_id=row[2],
        activity=row[3],
        category=row[4],
        scheduled_at=_from_micros(row[5]),
        schedule_deadline=_from_micros(row[6]),
        execution_timeout=row[7],
        heartbeat_timeout=row[8],
        input=loads(row[9]),
        state=row[10],
        token=row[11],
        attempt=row[12],
        started_at=from_micros(row[13]),
        execution_deadline=from_micros(row[14]),
        heartbeat_deadline=from_micros(row[15]),
        cancel_requested=bool(row[16]),
    )


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
