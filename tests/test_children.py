"""Child processes: starting them, hearing back from them, and child policies."""

from __future__ import annotations

import pytest

from pyworkflow.decision import (
    CancelProcess,
    CompleteProcess,
    ContinueAsNew,
    FailProcess,
    StartChildProcess,
)
from pyworkflow.events import CancelRequestedEvent, ChildProcessEvent, ProcessTerminatedEvent
from pyworkflow.exceptions import InvalidDecisionError
from pyworkflow.process import (
    Process,
    ProcessCanceled,
    ProcessCompleted,
    ProcessFailed,
    ProcessTimedOut,
)
from pyworkflow.signal import Signal

from .support import ManualWorkflow, ShortWorkflow, decide, news, no_tasks, start, take_decision

# Every test here starts a child process.
pytestmark = pytest.mark.needs("children")


def start_parent_with_child(
    manager, child_policy: str = "ABANDON", workflow=ManualWorkflow, parent_workflow=ManualWorkflow
) -> tuple[str, str]:
    parent_id = start(manager, workflow=parent_workflow)
    child = Process(workflow=workflow, id="child", input={"n": 1}, tags=["kid"])
    decide(manager, StartChildProcess(child, child_policy=child_policy), process_id=parent_id)
    return parent_id, "child"


def child_events(manager, parent_id: str) -> list[ChildProcessEvent]:
    history = manager.process_by_id(parent_id).history
    return [event for event in history if event.type == "child_process"]


def test_a_child_starts_with_its_parent_named(manager):
    parent_id, child_id = start_parent_with_child(manager)
    task = take_decision(manager, child_id)
    assert task.process.parent == parent_id
    assert task.process.input == {"n": 1}
    assert task.process.tags == ["kid"]
    assert manager.next_decision() is None  # starting a child wakes nobody else


def test_a_child_without_an_id_gets_one(manager):
    parent_id = start(manager)
    decide(manager, StartChildProcess(Process(workflow=ManualWorkflow)))
    task = take_decision(manager)
    assert task.process.parent == parent_id
    assert task.process.id not in (None, parent_id)


def test_parent_hears_a_completed_child(manager):
    parent_id, child_id = start_parent_with_child(manager)
    decide(manager, CompleteProcess({"answer": 42}), process_id=child_id)
    task = take_decision(manager, parent_id)
    assert news(task.process) == [
        ChildProcessEvent(child_id, ProcessCompleted({"answer": 42}), "Manual", ["kid"])
    ]


def test_parent_sees_a_failed_child(manager):
    parent_id, child_id = start_parent_with_child(manager)
    decide(manager, FailProcess("bad input", "details"), process_id=child_id)
    task = take_decision(manager, parent_id)
    [event] = news(task.process)
    assert event == ChildProcessEvent(
        child_id, ProcessFailed("bad input", "details"), "Manual", ["kid"]
    )
    assert manager.process_by_id(child_id).status == "failed"


@pytest.mark.parametrize("close", ["cancel", "terminate", "cancel_decision"])
def test_parent_sees_a_child_canceled_or_terminated(manager, close):
    parent_id, child_id = start_parent_with_child(manager)
    if close == "cancel":
        manager.cancel_process(child_id, "enough")
        expected = ProcessCanceled("enough")
    elif close == "cancel_decision":
        decide(manager, CancelProcess("enough"), process_id=child_id)
        expected = ProcessCanceled("enough")
    else:
        manager.terminate_process(child_id, reason="ops")
        expected = manager.process_by_id(child_id).result
        assert expected.status == "terminated"
    [event] = child_events(manager, parent_id)
    assert (event.process_id, event.result) == (child_id, expected)
    take_decision(manager, parent_id)


def test_parent_sees_a_child_time_out(manager, clock):
    parent_id, child_id = start_parent_with_child(manager, workflow=ShortWorkflow)
    clock.advance(ShortWorkflow.timeout)
    task = take_decision(manager)
    # the child's own first decision task went with it: only the parent is woken
    assert task.process.id == parent_id
    [event] = news(task.process)
    assert event == ChildProcessEvent(child_id, ProcessTimedOut(), "Short", ["kid"])


def test_a_child_id_already_open_is_rejected(manager):
    start(manager, id="child")
    decide(manager, process_id="child")
    parent_id, _ = start_parent_with_child(manager)
    [event] = [
        e
        for e in take_decision(manager, parent_id).process.history
        if e.type == "decision_rejected"
    ]
    assert "child" in event.reason


def test_continued_child_reports_only_when_its_last_run_closes(manager):
    parent_id, child_id = start_parent_with_child(manager)
    decide(manager, ContinueAsNew(input={"n": 2}), process_id=child_id)
    assert child_events(manager, parent_id) == []
    task = take_decision(manager, child_id)
    assert task.process.parent == parent_id
    assert task.process.input == {"n": 2}
    manager.complete_task(task, CompleteProcess("last run"))
    [event] = child_events(manager, parent_id)
    assert event.result == ProcessCompleted("last run")


# -- child policies when the parent closes first -------------------------------------------


@pytest.mark.parametrize("close_parent", ["cancel_process", "complete_decision"])
def test_terminate_policy_terminates_the_child(manager, close_parent):
    parent_id, child_id = start_parent_with_child(manager, child_policy="TERMINATE")
    if close_parent == "cancel_process":
        manager.cancel_process(parent_id)
    else:
        decide(manager, process_id=child_id)
        manager.signal_process(parent_id, Signal("finish"))
        decide(manager, CompleteProcess(), process_id=parent_id)
    child = manager.process_by_id(child_id)
    assert child.status == "terminated"
    assert isinstance(child.history[-1], ProcessTerminatedEvent)
    assert child_events(manager, parent_id) == []  # the closed parent gets no event
    assert no_tasks(manager)


def test_request_cancel_policy_asks_the_child_to_cancel(manager):
    parent_id, child_id = start_parent_with_child(manager, child_policy="REQUEST_CANCEL")
    decide(manager, process_id=child_id)
    manager.cancel_process(parent_id)
    task = take_decision(manager, child_id)
    assert news(task.process) == [CancelRequestedEvent("parent closed")]
    manager.complete_task(task, CancelProcess("parent is gone"))
    assert manager.process_by_id(child_id).status == "canceled"
    assert child_events(manager, parent_id) == []
    assert manager.process_by_id(parent_id).status == "canceled"


def test_abandon_policy_leaves_the_child_running(manager):
    parent_id, child_id = start_parent_with_child(manager, child_policy="ABANDON")
    decide(manager, process_id=child_id)
    manager.cancel_process(parent_id)
    child = manager.process_by_id(child_id)
    assert child.is_open
    assert manager.next_decision() is None
    manager.signal_process(child_id, Signal("still here"))
    decide(manager, CompleteProcess("alone"), process_id=child_id)
    assert manager.process_by_id(child_id).result == ProcessCompleted("alone")
    assert child_events(manager, parent_id) == []


def test_parent_and_terminated_child_timing_out_together_close_once(manager, clock):
    parent_id, child_id = start_parent_with_child(
        manager, child_policy="TERMINATE", workflow=ShortWorkflow, parent_workflow=ShortWorkflow
    )
    clock.advance(ShortWorkflow.timeout)
    parent = manager.process_by_id(parent_id)
    child = manager.process_by_id(child_id)
    assert parent.status == "timed_out"
    closing = [
        e.type
        for e in child.history
        if e.type.startswith("process_") and e.type != "process_started"
    ]
    assert len(closing) == 1
    assert child.status in ("terminated", "timed_out")
    assert (
        closing[0]
        == {"terminated": "process_terminated", "timed_out": "process_timed_out"}[child.status]
    )
    assert no_tasks(manager)


def test_an_unknown_child_policy_is_refused(manager):
    parent_id = start(manager)
    task = take_decision(manager, parent_id)
    with pytest.raises(InvalidDecisionError):
        manager.complete_task(
            task, StartChildProcess(Process(workflow=ManualWorkflow), child_policy="EXPLODE")
        )


def test_a_claim_can_keep_to_one_process_and_the_children_it_started(manager):
    parent_id, child_id = start_parent_with_child(manager)
    grandchild = Process(workflow=ManualWorkflow, id="grandchild")
    decide(manager, StartChildProcess(grandchild), process_id=child_id)
    bystander = start(manager)  # ready before the grandchild's first decision is claimed

    task = manager.next_decision(root_process=parent_id)
    assert task is not None and task.process.id == "grandchild"
    manager.complete_task(task, [])
    assert manager.next_decision(root_process=parent_id) is None
    assert manager.next_decision(root_process="someone-else") is None
    assert take_decision(manager).process.id == bystander
