"""Every storable value survives a trip through JSON text unchanged."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pyworkflow import activity, codec, decision, events, process, retry, signal
from pyworkflow._value import Value
from pyworkflow.activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityTimedOut,
)
from pyworkflow.decision import (
    CancelActivity,
    CancelProcess,
    CancelTimer,
    CompleteProcess,
    ContinueAsNew,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from pyworkflow.events import (
    ActivityAttemptFailed,
    ActivityAttemptScheduled,
    ActivityEvent,
    ActivityRetryScheduled,
    ActivityStartedEvent,
    CancelRequestedEvent,
    ChildProcessEvent,
    DecisionEvent,
    DecisionFailedEvent,
    DecisionRejectedEvent,
    DecisionStartedEvent,
    DecisionTimedOutEvent,
    ProcessStartedEvent,
    ProcessTerminatedEvent,
    ProcessTimedOutEvent,
    SignalEvent,
    TimerEvent,
)
from pyworkflow.process import (
    Process,
    ProcessCanceled,
    ProcessCompleted,
    ProcessContinuedAsNew,
    ProcessFailed,
    ProcessTerminated,
    ProcessTimedOut,
)
from pyworkflow.retry import RetryPolicy
from pyworkflow.signal import Signal

WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
EXECUTION = ActivityExecution("Multiplication", "act-1", {"numbers": [3, 4], "@": "not a tag"})
CHILD = Process(workflow="Child", id="child-1", input=[1, 2.5], tags=["a"], parent="p-1")

SAMPLES: list[Value] = [
    EXECUTION,
    ActivityCompleted({"total": 12}),
    ActivityCanceled("stop"),
    ActivityFailed("invalid input", "Traceback ...\nValueError"),
    ActivityTimedOut("heartbeat_timeout"),
    ScheduleActivity("Multiplication", id="act-1", category="fast", input=[3, 4]),
    CancelActivity("act-1"),
    CompleteProcess({"nested": {"@": "dict", "items": [1]}}),
    CancelProcess("details"),
    FailProcess("reason", {"why": None}),
    ContinueAsNew([1], tags=["x"]),
    StartChildProcess(CHILD, child_policy="TERMINATE"),
    Timer(1.5, data={"k": True}, id="t-1"),
    CancelTimer("t-1"),
    RecordMarker("marker", details=[None, False]),
    SignalProcess("p-2", "go", data={"x": 1}),
    RequestCancelProcess("p-2", details="please"),
    Signal("go", [1, "two"]),
    ProcessCompleted(12),
    ProcessCanceled("details"),
    ProcessFailed("reason", "details"),
    ProcessTimedOut(),
    ProcessTerminated("reason", None),
    ProcessContinuedAsNew({"input": 1}),
    ProcessStartedEvent(WHEN),
    DecisionStartedEvent(WHEN),
    DecisionEvent(ScheduleActivity("Multiplication", id="a", input=None), WHEN),
    DecisionFailedEvent("ValueError: bad", "Traceback", WHEN),
    DecisionTimedOutEvent(WHEN),
    DecisionRejectedEvent(CancelTimer("nope"), "no running timer", WHEN),
    ActivityStartedEvent(EXECUTION, WHEN),
    ActivityEvent(EXECUTION, ActivityFailed("r", "d"), WHEN),
    SignalEvent(Signal("go", {"a": [1]}), WHEN),
    TimerEvent(Timer(0, id="t"), WHEN),
    ChildProcessEvent("child-1", ProcessFailed("r"), "Child", ["t"], WHEN),
    CancelRequestedEvent({"by": "user"}, WHEN),
    ProcessTimedOutEvent(WHEN),
    ProcessTerminatedEvent("reason", "details", WHEN),
    RetryPolicy(max_attempts=4, initial_interval=0.5, non_retryable=["ValueError"], jitter=0.1),
    ScheduleActivity("Multiplication", id="r", retry=RetryPolicy(max_attempts=2)),
    ActivityAttemptFailed(EXECUTION, 1, ActivityTimedOut("execution"), WHEN),
    ActivityRetryScheduled(EXECUTION, 2, 1.5, WHEN),
    ActivityAttemptScheduled(EXECUTION, 2, WHEN),
    Process(
        workflow="Parent",
        id="p-1",
        input={"@": 1},
        tags=["a", "b"],
        history=[ProcessStartedEvent(WHEN), DecisionStartedEvent(WHEN)],
        status="failed",
        result=ProcessFailed("r", "d"),
    ),
]


def through_json(value: object) -> object:
    return codec.decode(json.loads(json.dumps(codec.encode(value))))


@pytest.mark.parametrize("value", SAMPLES, ids=lambda value: type(value).__name__)
def test_text_round_trip_matches_the_generic_one(value: Value) -> None:
    text = codec.dumps(value)
    assert codec.loads(text) == value == through_json(value)
    assert codec.decode(json.loads(text)) == value


@pytest.mark.parametrize("value", SAMPLES, ids=lambda value: type(value).__name__)
def test_round_trip_is_exact(value: Value) -> None:
    restored = through_json(value)
    assert type(restored) is type(value)
    assert restored == value
    for name in value._fields:
        assert getattr(restored, name) == getattr(value, name)


def test_every_value_class_is_registered_and_sampled() -> None:
    modules = [events, decision, activity, process, signal, retry]
    concrete = {
        item
        for module in modules
        for item in vars(module).values()
        if isinstance(item, type)
        and issubclass(item, Value)
        and item.__module__ == module.__name__
        and item.__name__
        not in {
            "Event",
            "Decision",
            "ActivityResult",
            "InterruptedActivityResult",
            "ProcessResult",
            "InterruptedProcessResult",
        }
    }
    assert set(codec.registered().values()) == concrete
    assert {type(sample) for sample in SAMPLES} == concrete


def test_event_time_is_kept_as_utc_iso_text() -> None:
    encoded = codec.encode(SignalEvent(Signal("go"), WHEN))
    assert encoded["datetime"] == "2024-05-06T07:08:09.123456+00:00"
    assert codec.decode(encoded).datetime == WHEN


def test_process_keeps_status_result_and_history_times() -> None:
    original = SAMPLES[-1]
    assert isinstance(original, Process)
    restored = through_json(original)
    assert isinstance(restored, Process)
    assert restored.status == "failed"
    assert restored.result == ProcessFailed("r", "d")
    assert [event.datetime for event in restored.history] == [WHEN, WHEN]


def test_payload_dict_with_tag_key_stays_a_dict() -> None:
    payload = {"@": "ProcessCompleted", "result": {"@": "dict", "items": []}}
    assert through_json(ActivityCompleted(payload)) == ActivityCompleted(payload)
    assert codec.loads(codec.dumps(ActivityCompleted(payload))) == ActivityCompleted(payload)


def test_unknown_class_name_is_a_clear_error() -> None:
    with pytest.raises(codec.CodecError, match="unknown class 'Nope'"):
        codec.decode({"@": "Nope"})


def test_unregistered_value_is_refused() -> None:
    class Stray(Value):
        _fields = ()

    with pytest.raises(codec.CodecError, match="Stray is not registered"):
        codec.encode(Stray())
