"""Workers: what a step reports, graceful stop, and running N activities at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pyworkflow.activity import (
    Activity,
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityTimedOut,
)
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.task import ActivityTask
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow.workflow import Workflow

from .support import decide, start, take_activity, take_decision, wait_until

# -- activities with every kind of outcome -------------------------------------------------


class Gate:
    """Lets a test hold activities and deciders mid-task and release them."""

    started = threading.Event()
    release = threading.Event()
    barrier = threading.Barrier(1)
    handed_off: list[ActivityTask] = []

    @classmethod
    def reset(cls, parties: int = 1) -> None:
        cls.started = threading.Event()
        cls.release = threading.Event()
        cls.barrier = threading.Barrier(parties, timeout=20)
        cls.handed_off = []


class OutcomeActivity(Activity):
    def execute(self) -> Any:
        kind = self.input
        if kind == "return":
            return {"ok": True}
        if kind == "raise":
            raise KeyError("missing thing")
        if kind == "raise failed":
            raise ActivityFailed("told to fail", "why")
        if kind == "return canceled":
            return ActivityCanceled("gave up")
        if kind == "raise timed out":
            raise ActivityTimedOut("upstream")
        raise AssertionError(kind)


class BlockingActivity(Activity):
    def execute(self) -> Any:
        Gate.started.set()
        if not Gate.release.wait(20):
            raise AssertionError("never released")
        return "finished"


class BarrierActivity(Activity):
    def execute(self) -> Any:
        return Gate.barrier.wait()  # breaks (and fails the activity) unless all run at once


class HandOffActivity(Activity):
    auto_complete = False

    def execute(self) -> Any:
        Gate.handed_off.append(self.task)
        return "ignored: completed later by someone else"


class WorkersWorkflow(Workflow):
    activities = [OutcomeActivity, BlockingActivity, BarrierActivity, HandOffActivity]

    def decide(self, process: Process) -> Any:
        if process.input == "block":
            Gate.started.set()
            if not Gate.release.wait(20):
                raise AssertionError("never released")
        return CompleteProcess("decided")


@pytest.fixture
def manager(backend) -> Manager:
    Gate.reset()
    return Manager(backend, workflows=[WorkersWorkflow])


def activity_result(manager: Manager, process_id: str) -> Any:
    [result] = [e.result for e in manager.process_by_id(process_id).history if e.type == "activity"]
    return result


# -- what a step reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("return", ActivityCompleted({"ok": True})),
        ("raise failed", ActivityFailed("told to fail", "why")),
        pytest.param(
            "return canceled",
            ActivityCanceled("gave up"),
            marks=pytest.mark.needs("activity_canceled"),
        ),
        ("raise timed out", ActivityTimedOut("upstream")),
    ],
)
def test_activity_outcomes_are_reported_as_results(manager, kind, expected):
    process_id = start(manager, workflow=WorkersWorkflow)
    decide(manager, ScheduleActivity(OutcomeActivity, id="o", input=kind))
    assert ActivityWorker(manager).step() is True
    assert activity_result(manager, process_id) == expected


def test_an_activity_that_raises_fails_with_the_traceback(manager):
    process_id = start(manager, workflow=WorkersWorkflow)
    decide(manager, ScheduleActivity(OutcomeActivity, id="o", input="raise"))
    assert ActivityWorker(manager).step()
    result = activity_result(manager, process_id)
    assert isinstance(result, ActivityFailed)
    assert result.reason == str(KeyError("missing thing"))
    assert "Traceback" in result.details and "KeyError" in result.details


@pytest.mark.needs("poll_by_activity")
def test_a_worker_leaves_activities_it_has_no_code_for_to_one_that_has(backend):
    full = Manager(backend, workflows=[WorkersWorkflow])
    bare = Manager(backend)
    process_id = start(full, workflow=WorkersWorkflow)
    decide(full, ScheduleActivity(OutcomeActivity, id="o", input="return"))
    assert not ActivityWorker(bare).step()
    assert ActivityWorker(full).step()
    assert activity_result(full, process_id) == ActivityCompleted({"ok": True})


def test_an_activity_unknown_to_the_manager_fails_instead_of_killing_the_worker(backend):
    full = Manager(backend, workflows=[WorkersWorkflow])
    bare = Manager(backend)
    process_id = start(full, workflow=WorkersWorkflow)
    decide(full, ScheduleActivity(OutcomeActivity, id="o", input="return"))
    task = full.next_activity()
    ActivityWorker(bare).handle(task)
    result = activity_result(full, process_id)
    assert isinstance(result, ActivityFailed)
    assert "Outcome" in result.reason


def test_step_reports_whether_it_handled_a_task(manager):
    assert ActivityWorker(manager).step() is False
    assert DecisionWorker(manager).step() is False
    process_id = start(manager, workflow=WorkersWorkflow)
    assert DecisionWorker(manager).step() is True
    assert manager.process_by_id(process_id).result == ProcessCompleted("decided")


def test_a_handed_off_activity_is_completed_later_through_the_manager(manager):
    process_id = start(manager, workflow=WorkersWorkflow)
    decide(manager, ScheduleActivity(HandOffActivity, id="h", input=1))
    assert ActivityWorker(manager).step()
    assert manager.next_decision() is None  # the worker reported nothing
    [task] = Gate.handed_off
    manager.complete_task(task, "done elsewhere")
    assert activity_result(manager, process_id) == ActivityCompleted("done elsewhere")


def test_workers_poll_their_own_category(backend):
    class ElsewhereActivity(Activity):
        category = "elsewhere"

        def execute(self) -> Any:
            return "here"

    class ElsewhereWorkflow(Workflow):
        activities = [ElsewhereActivity]
        category = "deciders-elsewhere"

        def decide(self, process: Process) -> Any:
            return ElsewhereActivity if not process.unfinished_activities() else None

    manager = Manager(backend, workflows=[ElsewhereWorkflow])
    process_id = start(manager, workflow=ElsewhereWorkflow)
    assert DecisionWorker(manager).step() is False
    assert DecisionWorker(manager, category="deciders-elsewhere").step() is True
    assert ActivityWorker(manager).step() is False
    assert ActivityWorker(manager, category="elsewhere").step() is True
    assert activity_result(manager, process_id) == ActivityCompleted("here")


# -- run() and stop() ----------------------------------------------------------------------


def test_run_stops_on_stop_after_finishing_the_activity_in_hand(manager):
    process_id = start(manager, workflow=WorkersWorkflow)
    decide(
        manager,
        ScheduleActivity(BlockingActivity, id="first"),
        ScheduleActivity(BlockingActivity, id="second"),
    )
    worker = ActivityWorker(manager, max_idle_wait=0.01)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(Gate.started.is_set)

    worker.stop()
    assert thread.is_alive()  # the activity in hand is still running
    Gate.release.set()
    thread.join(20)
    assert not thread.is_alive()

    assert activity_result(manager, process_id) == ActivityCompleted("finished")
    assert worker.tasks_handled == 1
    history = manager.process_by_id(process_id).history
    [ran] = [e.activity_execution.id for e in history if e.type == "activity_started"]
    left = take_activity(manager)  # the other one was never polled
    assert {ran, left.activity_execution.id} == {"first", "second"}


def test_run_stops_on_stop_after_finishing_the_decision_in_hand(manager):
    process_id = start(manager, workflow=WorkersWorkflow, input="block")
    worker = DecisionWorker(manager, max_idle_wait=0.01)
    thread = WorkerThread(worker)
    thread.start()
    wait_until(Gate.started.is_set)
    worker.stop()
    assert thread.is_alive()
    Gate.release.set()
    thread.join(20)
    assert not thread.is_alive()
    assert manager.process_by_id(process_id).result == ProcessCompleted("decided")


def test_an_idle_worker_stops_promptly(manager):
    worker = DecisionWorker(manager, max_idle_wait=0.01)
    thread = threading.Thread(target=worker.run)
    thread.start()
    worker.stop()
    thread.join(20)
    assert not thread.is_alive()
    assert worker.tasks_handled == 0


def test_run_with_max_tasks_or_exit_when_idle_returns_the_count(manager):
    for _ in range(3):
        start(manager, workflow=WorkersWorkflow)
    assert DecisionWorker(manager).run(max_tasks=2) == 2
    assert len(manager.processes()) == 1
    assert DecisionWorker(manager).run(exit_when_idle=True) == 1
    assert manager.processes() == []


def test_activity_worker_with_concurrency_runs_that_many_tasks_at_once(manager):
    Gate.reset(parties=3)
    process_id = start(manager, workflow=WorkersWorkflow)
    decide(manager, *[ScheduleActivity(BarrierActivity, id=f"b{n}") for n in range(3)])
    worker = ActivityWorker(manager, concurrency=3, max_idle_wait=0.01)
    thread = threading.Thread(target=worker.run)
    thread.start()

    def all_reported() -> bool:
        history = manager.process_by_id(process_id).history
        return sum(event.type == "activity" for event in history) == 3

    wait_until(all_reported, timeout=30)
    worker.stop()
    thread.join(20)
    assert not thread.is_alive()
    results = [e.result for e in manager.process_by_id(process_id).history if e.type == "activity"]
    assert all(isinstance(result, ActivityCompleted) for result in results), results
    assert sorted(result.result for result in results) == [0, 1, 2]
    assert worker.tasks_handled == 3


def test_concurrency_below_one_is_refused(manager):
    with pytest.raises(ValueError):
        ActivityWorker(manager, concurrency=0)


def test_a_late_report_after_a_timeout_does_not_kill_the_worker(backend, clock):
    class SlowActivity(Activity):
        heartbeat_timeout = 5

        def execute(self) -> Any:
            clock.advance(10)  # the task times out while it runs
            return "late"

    class SlowWorkflow(Workflow):
        activities = [SlowActivity]

    manager = Manager(backend, workflows=[SlowWorkflow])
    process_id = start(manager, workflow=SlowWorkflow)
    decide(manager, ScheduleActivity(SlowActivity, id="s"))
    assert ActivityWorker(manager).step() is True
    assert activity_result(manager, process_id) == ActivityTimedOut("heartbeat_timeout")
    task = take_decision(manager, process_id)
    assert task.process.is_open


def test_a_late_report_json_cannot_carry_does_not_kill_the_worker(backend, clock):
    class SlowSetActivity(Activity):
        heartbeat_timeout = 5

        def execute(self) -> Any:
            clock.advance(10)  # the task times out while it runs
            return {1, 2}

    class SlowSetWorkflow(Workflow):
        activities = [SlowSetActivity]

    manager = Manager(backend, workflows=[SlowSetWorkflow])
    process_id = start(manager, workflow=SlowSetWorkflow)
    decide(manager, ScheduleActivity(SlowSetActivity, id="s"))
    assert ActivityWorker(manager).step() is True
    assert activity_result(manager, process_id) == ActivityTimedOut("heartbeat_timeout")
