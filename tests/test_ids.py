"""Ids behave the same on every backend: integers, as 2014 code passes them, are
taken as their string form; values no id can be are refused where they are passed."""

from __future__ import annotations

import pytest

from pyworkflow.decision import (
    CancelActivity,
    CancelTimer,
    CompleteProcess,
    ScheduleActivity,
    SignalProcess,
    Timer,
)
from pyworkflow.exceptions import InvalidDecisionError
from pyworkflow.process import Process

from .support import EchoActivity, ManualWorkflow, decide, start, take_decision


@pytest.mark.needs("cancel_activity")
def test_an_integer_activity_id_is_its_string_form_on_every_backend(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id=1, input="x"))
    task = manager.next_activity()
    assert task is not None
    assert task.activity_execution.id == "1"
    manager.complete_task(task, "done")
    decision = take_decision(manager, process_id)
    [event] = [e for e in decision.process.history if e.type == "activity"]
    assert event.activity_execution.id == "1"
    manager.complete_task(decision, CancelActivity(1))  # an id no activity has any more
    assert manager.process_by_id(process_id).history[-1].type == "decision_rejected"


def test_integer_timer_and_process_ids_work_on_every_backend(manager, clock):
    first = manager.start_process(Process(workflow=ManualWorkflow, id=7))
    assert first == "7"
    assert manager.process_by_id("7").id == "7"
    decide(manager, Timer(5, id=3), SignalProcess(7, "self"), process_id="7")
    decide(manager, CancelTimer(3), process_id="7")
    history = manager.process_by_id("7").history
    assert [e.type for e in history].count("decision_rejected") == 0
    assert any(e.type == "signal" for e in history)


def test_zero_is_an_id_not_a_missing_one(manager):
    start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id=0))
    task = manager.next_activity()
    assert task is not None and task.activity_execution.id == "0"


@pytest.mark.parametrize(
    "make",
    [
        lambda: ScheduleActivity(EchoActivity, id=[1]),
        lambda: CancelActivity(None),
        lambda: Timer(1, id=1.5),
        lambda: SignalProcess({"id": 1}, "s"),
        lambda: CancelTimer(True),
    ],
)
def test_a_value_no_id_can_be_is_refused_where_it_is_passed(make):
    with pytest.raises(InvalidDecisionError, match="id"):
        make()


def test_a_process_id_no_id_can_be_is_refused_before_anything_is_written(manager):
    with pytest.raises(ValueError, match="process id must be a string or an integer"):
        manager.start_process(Process(workflow=ManualWorkflow, id=2.5))
    assert manager.processes(status="all") == []


def test_one_decision_may_be_passed_alone_as_2014_code_does(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    manager.backend.complete_decision_task(task, CompleteProcess("done"))
    assert manager.process_by_id(process_id).result.result == "done"
