"""Canceling: whole processes at once, and single activities through their heartbeat."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pyworkflow.activity import (
    Activity,
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
)
from pyworkflow.decision import CancelActivity, CancelProcess, ScheduleActivity
from pyworkflow.events import ActivityEvent, DecisionEvent
from pyworkflow.exceptions import (
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
    UnknownProcessException,
)
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCanceled
from pyworkflow.signal import Signal
from pyworkflow.worker import ActivityWorker
from pyworkflow.workflow import Workflow

from .support import (
    EchoActivity,
    decide,
    news,
    no_tasks,
    start,
    take_activity,
    take_decision,
    types,
    wait_until,
)

# -- cancel_process ------------------------------------------------------------------------


def test_cancel_process_closes_at_once_as_in_2014(manager):
    process_id = start(manager)
    decide(manager)
    manager.cancel_process(process_id, details="stop")
    process = manager.process_by_id(process_id)
    assert process.status == "canceled"
    assert process.result == ProcessCanceled("stop")
    assert process.history[-1] == DecisionEvent(CancelProcess("stop"))
    assert no_tasks(manager)


def test_cancel_process_accepts_the_process_itself(manager):
    process_id = start(manager)
    manager.cancel_process(manager.process_by_id(process_id))
    assert manager.process_by_id(process_id).status == "canceled"


def test_cancel_drops_the_pending_decision_and_refuses_the_one_in_hand(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    manager.cancel_process(process_id)
    with pytest.raises(UnknownDecisionException):
        manager.complete_task(task, [])
    with pytest.raises(UnknownDecisionException):
        manager.fail_decision(task, "late")
    assert manager.next_decision() is None


@pytest.mark.needs("closed_run_tasks")
def test_cancel_process_cascades_to_scheduled_and_running_activities(manager):
    process_id = start(manager)
    decide(
        manager,
        ScheduleActivity(EchoActivity, id="running", input=1),
        ScheduleActivity(EchoActivity, id="queued", input=2),
    )
    running = take_activity(manager)
    manager.cancel_process(process_id)

    assert manager.next_activity() is None
    with pytest.raises(UnknownActivityException):
        manager.heartbeat(running)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(running, "late")
    assert types(manager.process_by_id(process_id))[-1] == "decision"


@pytest.mark.needs("request_cancel")
def test_cancel_of_unknown_or_closed_process_is_refused(manager):
    with pytest.raises(UnknownProcessException):
        manager.cancel_process("nope")
    process_id = start(manager)
    manager.cancel_process(process_id)
    before = manager.process_by_id(process_id)
    with pytest.raises(ProcessClosedException):
        manager.cancel_process(process_id)
    with pytest.raises(ProcessClosedException):
        manager.signal_process(process_id, Signal("late"))
    with pytest.raises(ProcessClosedException):
        manager.request_cancel_process(process_id)
    assert manager.process_by_id(process_id) == before


def test_terminate_closes_with_the_reason(manager):
    process_id = start(manager)
    manager.terminate_process(process_id, reason="ops", details={"ticket": 7})
    process = manager.process_by_id(process_id)
    assert process.status == "terminated"
    assert process.result.reason == "ops"
    assert process.history[-1].type == "process_terminated"
    assert no_tasks(manager)


# -- CancelActivity ------------------------------------------------------------------------


@pytest.mark.needs("cancel_activity")
def test_cancel_of_a_queued_activity_records_canceled_at_once(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    manager.signal_process(process_id, Signal("cancel it"))
    decide(manager, CancelActivity("a"))
    assert manager.next_activity() is None
    task = take_decision(manager, process_id)
    assert news(task.process) == [
        ActivityEvent(ActivityExecution("Echo", "a", 1), ActivityCanceled())
    ]


@pytest.mark.needs("cancel_activity")
def test_heartbeat_reports_a_cancel_request_on_a_running_activity(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    running = take_activity(manager)
    assert manager.heartbeat(running) is False

    manager.signal_process(process_id, Signal("cancel it"))
    decide(manager, CancelActivity("a"))
    assert manager.next_decision() is None  # nothing happened yet that the decider must see
    assert manager.heartbeat(running) is True
    assert manager.heartbeat(running) is True

    manager.complete_task(running, ActivityCanceled("stopped"))
    task = take_decision(manager, process_id)
    assert news(task.process) == [
        ActivityEvent(ActivityExecution("Echo", "a", 1), ActivityCanceled("stopped"))
    ]


@pytest.mark.needs("cancel_activity")
def test_cancel_of_an_unknown_activity_is_rejected(manager):
    process_id = start(manager)
    decide(manager, CancelActivity("nothing-here"))
    task = take_decision(manager, process_id)
    [event] = news(task.process)
    assert event.type == "decision_rejected"


# -- a real ActivityWorker stopping through Activity.heartbeat() --------------------------


class LoopState:
    started = threading.Event()
    beats = 0


class LoopUntilCanceledActivity(Activity):
    """Heartbeats in a loop; ``heartbeat()`` raises ActivityCanceled when asked to stop."""

    def execute(self) -> Any:
        LoopState.started.set()
        for _ in range(200_000):
            self.heartbeat()
            LoopState.beats += 1
            threading.Event().wait(0.0005)
        return "never canceled"


class LoopWorkflow(Workflow):
    activities = [LoopUntilCanceledActivity]

    def decide(self, process: Process) -> Any:
        raise AssertionError("decided by the test")


@pytest.fixture
def loop_manager(backend):
    LoopState.started = threading.Event()
    LoopState.beats = 0
    return Manager(backend, workflows=[LoopWorkflow])


def run_one_activity_in_thread(manager: Manager) -> tuple[threading.Thread, list[bool]]:
    handled: list[bool] = []
    worker = ActivityWorker(manager)
    thread = threading.Thread(target=lambda: handled.append(worker.step()))
    thread.start()
    return thread, handled


@pytest.mark.needs("cancel_activity")
def test_cancel_activity_stops_a_running_activity_through_its_heartbeat(loop_manager):
    manager = loop_manager
    process_id = start(manager, workflow=LoopWorkflow)
    decide(manager, ScheduleActivity(LoopUntilCanceledActivity, id="loop"))
    thread, handled = run_one_activity_in_thread(manager)
    wait_until(LoopState.started.is_set)

    manager.signal_process(process_id, Signal("stop it"))
    decide(manager, CancelActivity("loop"))
    thread.join(30)
    assert not thread.is_alive()
    assert handled == [True]

    task = take_decision(manager, process_id)
    [result] = [e.result for e in news(task.process) if e.type == "activity"]
    assert result == ActivityCanceled("cancel requested")
    assert result != ActivityCompleted("never canceled")


@pytest.mark.needs("activity_canceled")
def test_cancel_process_stops_a_running_activity_and_the_worker_carries_on(loop_manager):
    manager = loop_manager
    process_id = start(manager, workflow=LoopWorkflow)
    decide(manager, ScheduleActivity(LoopUntilCanceledActivity, id="loop"))
    thread, handled = run_one_activity_in_thread(manager)
    wait_until(LoopState.started.is_set)

    manager.cancel_process(process_id)
    thread.join(30)
    assert not thread.is_alive()
    assert handled == [True]
    process = manager.process_by_id(process_id)
    assert process.status == "canceled"
    assert "activity" not in types(process)  # the refused report left no trace
    assert no_tasks(manager)
