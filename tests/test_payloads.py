"""Payloads are JSON: what JSON cannot carry fails at the call, naming the field,
and nothing is written."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCompleted, ActivityFailed
from pyworkflow.decision import (
    CompleteProcess,
    ContinueAsNew,
    RecordMarker,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from pyworkflow.exceptions import InvalidPayloadError
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.signal import Signal
from pyworkflow.worker import ActivityWorker
from pyworkflow.workflow import Workflow

from .support import EchoActivity, ManualWorkflow, decide, start, take_activity, take_decision

NOT_JSON = {
    "set": {1, 2},
    "object": object(),
    "bytes": b"raw",
    "nan": math.nan,
    "infinity": math.inf,
    "int key": {1: "one"},
}


@pytest.mark.parametrize("kind", sorted(NOT_JSON))
def test_start_with_input_json_cannot_carry_fails_naming_input(manager, kind):
    with pytest.raises(InvalidPayloadError, match="input"):
        start(manager, input=NOT_JSON[kind])
    assert manager.processes(status="all") == []
    assert manager.next_decision() is None


def test_the_error_names_the_nested_field(manager):
    with pytest.raises(InvalidPayloadError, match=r"input\.order\.lines\[1\]"):
        start(manager, input={"order": {"lines": ["ok", {3}]}})


def test_tags_must_be_strings(manager):
    with pytest.raises(ValueError, match="tags"):
        start(manager, tags=["ok", 3])
    assert manager.processes(status="all") == []


def test_signal_data_json_cannot_carry_fails_and_writes_nothing(manager):
    process_id = start(manager)
    decide(manager)
    before = manager.process_by_id(process_id)
    with pytest.raises(InvalidPayloadError, match="signal data"):
        manager.signal_process(process_id, Signal("s", {"when": object()}))
    assert manager.process_by_id(process_id) == before
    assert manager.next_decision() is None


@pytest.mark.parametrize(
    "call",
    [
        "cancel",
        pytest.param("request_cancel", marks=pytest.mark.needs("request_cancel")),
        "terminate",
    ],
)
def test_details_json_cannot_carry_fail_and_leave_the_process_open(manager, call):
    process_id = start(manager)
    before = manager.process_by_id(process_id)
    with pytest.raises(InvalidPayloadError):
        if call == "cancel":
            manager.cancel_process(process_id, details={1, 2})
        elif call == "request_cancel":
            manager.request_cancel_process(process_id, details={1, 2})
        else:
            manager.terminate_process(process_id, reason="r", details={1, 2})
    assert manager.process_by_id(process_id) == before
    assert manager.process_by_id(process_id).is_open


@pytest.mark.parametrize(
    "decision, field",
    [
        (ScheduleActivity(EchoActivity, id="a", input={1, 2}), "input"),
        (CompleteProcess(object()), "result"),
        (Timer(5, data={"x": math.nan}), "data"),
        (RecordMarker("m", details=b"x"), "details"),
        (SignalProcess("other", "s", data={2: 3}), "data"),
        (StartChildProcess(Process(workflow=ManualWorkflow, input={7})), "input"),
    ],
)
def test_decisions_with_payloads_json_cannot_carry_are_refused_whole(manager, decision, field):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    before = manager.process_by_id(process_id)
    ok = ScheduleActivity(EchoActivity, id="fine", input=1)
    with pytest.raises(InvalidPayloadError, match=field) as error:
        manager.complete_task(task, [ok, decision])
    assert "decision 1" in str(error.value)
    assert manager.process_by_id(process_id) == before
    assert manager.next_activity() is None
    manager.complete_task(task, [ok])  # the task is still held


def test_activity_result_json_cannot_carry_is_refused_and_the_task_kept(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    task = take_activity(manager)
    with pytest.raises(InvalidPayloadError, match="result"):
        manager.complete_task(task, {"value": {1, 2}})
    with pytest.raises(InvalidPayloadError, match="details"):
        manager.complete_task(task, ActivityFailed("r", details=object()))
    assert manager.next_decision() is None
    manager.complete_task(task, {"value": [1, 2]})
    [event] = take_decision(manager, process_id).process.unseen_events()[-1:]
    assert event.result == ActivityCompleted({"value": [1, 2]})


class ReturnsASetActivity(Activity):
    def execute(self) -> Any:
        return {1, 2, 3}


class SetWorkflow(Workflow):
    activities = [ReturnsASetActivity]


def test_an_activity_returning_what_json_cannot_carry_is_reported_failed(backend):
    manager = Manager(backend, workflows=[SetWorkflow])
    process_id = start(manager, workflow=SetWorkflow)
    decide(manager, ScheduleActivity(ReturnsASetActivity, id="s"))
    assert ActivityWorker(manager).step()
    [event] = take_decision(manager, process_id).process.unseen_events()[-1:]
    assert isinstance(event.result, ActivityFailed)
    assert "result.result" in event.result.reason
    assert "set" in event.result.reason


def test_json_values_round_trip_unchanged(manager):
    payload = {"s": "é ✓", "i": -3, "f": 2.5, "b": True, "n": None, "l": [1, [2, {"x": []}]]}
    process_id = start(manager, input=payload)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=payload))
    manager.signal_process(process_id, Signal("s", payload))
    task = take_activity(manager)
    assert task.activity_execution.input == payload
    manager.complete_task(task, payload)
    process = take_decision(manager, process_id).process
    assert process.input == payload
    assert process.history[-2].result == ActivityCompleted(payload)


def test_payloads_are_stored_as_json_would_carry_them(manager):
    """A tuple comes back a list, as every stored backend gives it; and the stored
    value does not change when the caller later changes its own object."""
    given = {"pair": (1, 2), "items": [1]}
    process_id = start(manager, input=given)
    given["items"].append(2)
    process = manager.process_by_id(process_id)
    assert process.input == {"pair": [1, 2], "items": [1]}
    data = {"n": [1]}
    decide(manager)
    manager.signal_process(process_id, Signal("s", data))
    data["n"].append(2)
    task = take_decision(manager, process_id)
    assert task.process.history[-2].signal.data == {"n": [1]}


@pytest.mark.needs("continue_as_new")
def test_continue_as_new_tags_must_be_strings_too(manager):
    process_id = start(manager, tags=["a"])
    task = take_decision(manager, process_id)
    with pytest.raises(ValueError, match="tags"):
        manager.complete_task(task, ContinueAsNew(input=1, tags=["ok", 2]))
    assert manager.process_by_id(process_id).tags == ["a"]
    manager.complete_task(task, ContinueAsNew(input=1, tags=["b"]))
    assert manager.process_by_id(process_id).tags == ["b"]
