"""A report that claims the worker's next task in the same call (and, on the
engine backends, the same transaction): nothing is lost, refused or left
claimed behind by it, whatever stops the worker."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from pyworkflow.activity import ActivityCompleted
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.exceptions import BackendUnavailableError, UnknownResourceException
from pyworkflow.hooks import TaskInfo, WorkerHook
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.task import ActivityTask, DecisionTask
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import Workflow

from .support import EchoActivity, start, take_activity, take_decision


class CompletingWorkflow(Workflow):
    """Completes with its input at the first decision."""

    def decide(self, process: Process) -> Any:
        return CompleteProcess(result=process.input)


def open_decision_tasks(manager: Manager) -> list[str]:
    """Claims every decision task that can be had, naming its process."""
    found = []
    while (task := manager.next_decision()) is not None:
        found.append(str(task.process.id))
    return found


@pytest.mark.needs("claim_with_report")
def test_a_decision_report_claims_the_next_decision_task(manager):
    first, second = start(manager), start(manager)
    task = take_decision(manager, first)
    claimed = manager.complete_and_next(task, [ScheduleActivity(EchoActivity, id="e")], "me")
    assert isinstance(claimed, DecisionTask)
    assert claimed.process.id == second
    assert [event.type for event in claimed.process.history][-1] == "decision_started"
    assert manager.next_decision() is None  # claimed, not offered twice
    first_history = manager.process_by_id(first).history
    assert [event.type for event in first_history][-1] == "decision"
    manager.complete_task(claimed, [CompleteProcess(result="done")])
    assert manager.process_by_id(second).result == ProcessCompleted("done")


@pytest.mark.needs("claim_with_report")
def test_an_activity_report_claims_the_next_activity_task(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    manager.complete_task(
        task, [ScheduleActivity(EchoActivity, id=name, input=name) for name in ("a", "b")]
    )
    first = take_activity(manager)
    claimed = manager.complete_and_next(first, first.activity_execution.input, "me")
    assert isinstance(claimed, ActivityTask)
    assert {claimed.activity_execution.id, first.activity_execution.id} == {"a", "b"}
    assert manager.next_activity() is None
    history = manager.process_by_id(process_id).history
    results = [event.result for event in history if event.type == "activity"]
    assert results == [ActivityCompleted(first.activity_execution.input)]


@pytest.mark.needs("claim_with_report")
def test_a_refused_report_claims_nothing(manager):
    first, second = start(manager), start(manager)
    task = take_decision(manager, first)
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id="e")])
    with pytest.raises(UnknownResourceException):
        manager.complete_and_next(task, [ScheduleActivity(EchoActivity, id="again")], "me")
    assert open_decision_tasks(manager) == [second]


def test_a_report_that_claims_nothing_leaves_the_next_task_to_a_poll(manager):
    first = start(manager)
    task = take_decision(manager, first)
    assert manager.complete_and_next(task, [ScheduleActivity(EchoActivity, id="e")]) is None
    activity = take_activity(manager)
    assert manager.complete_and_next(activity, "done") is None
    assert open_decision_tasks(manager) == [first]


class StopAfterTasks(WorkerHook):
    """Stops its worker once ``count`` tasks were reported, naming each it saw."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.worker: DecisionWorker | ActivityWorker | None = None
        self.seen: list[str] = []

    def around_task(self, info: TaskInfo, proceed: Any) -> str:
        outcome = proceed()
        self.seen.append(info.process_id)
        if len(self.seen) == self.count:
            assert self.worker is not None
            self.worker.stop()
        return outcome


def run_until_stopped_after_two_tasks(backend) -> list[str]:
    """The processes a decision worker ran, stopped after its second report (the
    first that can claim ahead: the first task came after no other); checks that
    what it ran is completed and what it did not run is still on offer."""
    manager = Manager(backend, workflows=[CompletingWorkflow])
    started = [start(manager, workflow=CompletingWorkflow, input=n) for n in range(4)]
    hook = StopAfterTasks(2)
    worker = DecisionWorker(manager, hooks=[hook])
    hook.worker = worker
    assert worker.run() == len(hook.seen)
    completed = [p for p in started if not manager.process_by_id(p).is_open]
    assert sorted(completed) == sorted(hook.seen)
    assert sorted(open_decision_tasks(manager)) == sorted(set(started) - set(hook.seen))
    return hook.seen


def test_a_worker_stopped_after_a_report_leaves_no_task_claimed(backend):
    assert len(run_until_stopped_after_two_tasks(backend)) >= 2


@pytest.mark.needs("claim_with_report")
def test_a_worker_stopped_after_a_report_runs_the_task_the_report_claimed(backend):
    assert len(run_until_stopped_after_two_tasks(backend)) == 3


def test_only_a_task_that_followed_another_claims_ahead(backend):
    """A task found after an empty poll has no backlog behind it: its report
    completes only, and costs no claim on the path of its process's latency."""
    manager = Manager(backend, workflows=[CompletingWorkflow])
    reports: list[str] = []
    complete_task, complete_and_next = manager.complete_task, manager.complete_and_next

    def plain(task: Any, result: Any) -> None:
        reports.append("plain")
        complete_task(task, result)

    def ahead(task: Any, result: Any, *args: Any) -> Any:
        reports.append("ahead")
        return complete_and_next(task, result, *args)

    manager.complete_task, manager.complete_and_next = plain, ahead  # type: ignore[method-assign]
    start(manager, workflow=CompletingWorkflow, input=0)
    assert DecisionWorker(manager).run(exit_when_idle=True) == 1
    for n in range(1, 4):
        start(manager, workflow=CompletingWorkflow, input=n)
    assert DecisionWorker(manager).run(exit_when_idle=True) == 3
    assert reports == ["plain", "plain", "ahead", "ahead"]


@pytest.mark.parametrize("concurrency", [1, 2])
def test_max_tasks_is_kept_though_reports_claim_ahead(manager, concurrency):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    names = [f"e{n}" for n in range(5)]
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id=n, input=n) for n in names])
    worker = ActivityWorker(manager, concurrency=concurrency)
    assert worker.run(max_tasks=3) == 3
    history = manager.process_by_id(process_id).history
    assert sum(event.type == "activity" for event in history) == 3
    left = []
    while (activity := manager.next_activity()) is not None:
        left.append(activity.activity_execution.id)
    assert len(left) == 2  # neither run nor left claimed by the stopped worker


def test_a_busy_decision_worker_decides_every_process(backend):
    manager = Manager(backend, workflows=[CompletingWorkflow])
    started = [start(manager, workflow=CompletingWorkflow, input=n) for n in range(6)]
    assert DecisionWorker(manager).run(exit_when_idle=True) == 6
    results = [manager.process_by_id(p).result for p in started]
    assert results == [ProcessCompleted(n) for n in range(6)]


class FailAfterSecondTask(WorkerHook):
    """A hook whose own work fails after the second task ran (a metrics push)."""

    def __init__(self) -> None:
        self.ran = 0

    def around_task(self, info: TaskInfo, proceed: Any) -> Any:
        outcome = proceed()
        self.ran += 1
        if self.ran == 2:
            raise RuntimeError("metrics push failed")
        return outcome


def test_a_step_that_fails_after_claiming_ahead_still_runs_the_claimed_task(backend):
    """The step fails after its report claimed the next task; a worker told to
    exit when idle (a failed step counts as idle) runs that task before it exits,
    leaving nothing claimed: every process is decided or still on offer."""
    manager = Manager(backend, workflows=[CompletingWorkflow])
    started = [start(manager, workflow=CompletingWorkflow, input=n) for n in range(4)]
    DecisionWorker(manager, hooks=[FailAfterSecondTask()]).run(exit_when_idle=True)
    completed = [p for p in started if not manager.process_by_id(p).is_open]
    assert len(completed) >= 2
    assert sorted(open_decision_tasks(manager)) == sorted(set(started) - set(completed))


def lose_one_answer(backend: Any, method: str) -> list[int]:
    """``backend.<method>`` commits, but its first answer is lost on the way back,
    as a connection dropped just after COMMIT would lose it. Counts the calls."""
    original = getattr(backend, method)
    calls = [0]

    def losing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        answer = original(*args, **kwargs)
        if calls[0] == 1:
            raise BackendUnavailableError("connection lost while reading the answer")
        return answer

    setattr(backend, method, losing)
    return calls


@pytest.mark.needs("claim_with_report")
def test_a_decision_task_claimed_by_a_report_whose_answer_was_lost_is_still_run(backend):
    """The retried report is refused (its first try was recorded), and the task
    that first try claimed would be held by nobody until its decision timeout:
    the worker chose that claim's token, so it finds the task and runs it."""
    manager = Manager(backend, workflows=[CompletingWorkflow])
    started = [start(manager, workflow=CompletingWorkflow, input=n) for n in range(3)]
    calls = lose_one_answer(backend, "complete_and_claim_decision_task")
    assert DecisionWorker(manager).run(exit_when_idle=True) == 3
    assert calls[0] >= 2
    results = [manager.process_by_id(p).result for p in started]
    assert results == [ProcessCompleted(n) for n in range(3)]


@pytest.mark.needs("claim_with_report")
def test_an_activity_task_claimed_by_a_report_whose_answer_was_lost_is_still_run(manager):
    """As for decisions; an activity's timeouts default to a year."""
    process_id = start(manager)
    task = take_decision(manager, process_id)
    names = ["a", "b", "c"]
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id=n, input=n) for n in names])
    calls = lose_one_answer(manager.backend, "complete_and_claim_activity_task")
    assert ActivityWorker(manager).run(exit_when_idle=True) == 3
    assert calls[0] >= 2
    history = manager.process_by_id(process_id).history
    assert sorted(e.activity_execution.id for e in history if e.type == "activity") == names
    assert manager.next_activity() is None  # none left claimed


@pytest.mark.needs("claim_with_report")
def test_a_claim_token_finds_its_task_only_while_it_is_claimed(manager):
    first, second = start(manager), start(manager)
    task = take_decision(manager, first)
    names = ["a", "b"]
    decisions = [ScheduleActivity(EchoActivity, id=n, input=n) for n in names]
    claimed = manager.complete_and_next(task, decisions, claim_token="decision-token")
    assert isinstance(claimed, DecisionTask) and claimed.process.id == second
    found = manager.claimed_decision("decision-token")
    assert isinstance(found, DecisionTask)
    assert found.context == claimed.context and found.context["token"] == "decision-token"
    assert found.process.history == claimed.process.history
    assert manager.claimed_decision("another-token") is None
    assert manager.claimed_activity("decision-token") is None
    manager.complete_task(claimed, [])
    assert manager.claimed_decision("decision-token") is None

    activity = take_activity(manager)
    ahead = manager.complete_and_next(activity, 1, claim_token="activity-token")
    assert isinstance(ahead, ActivityTask)
    found_activity = manager.claimed_activity("activity-token")
    assert isinstance(found_activity, ActivityTask)
    assert found_activity.activity_execution.id == ahead.activity_execution.id
    assert found_activity.context == ahead.context
    manager.complete_task(ahead, 2)
    assert manager.claimed_activity("activity-token") is None


@pytest.mark.needs("claim_with_report")
def test_a_lost_claim_that_cannot_be_looked_up_is_logged_and_the_worker_goes_on(manager, caplog):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    names = ["a", "b", "c"]
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id=n, input=n) for n in names])
    lose_one_answer(manager.backend, "complete_and_claim_activity_task")

    def unreachable(token: str) -> None:
        raise BackendUnavailableError("connection lost again")

    manager.backend.claimed_activity_task = unreachable  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="pyworkflow"):
        assert ActivityWorker(manager).run(exit_when_idle=True) == 2
    [logged] = [r for r in caplog.records if "cannot take in hand" in r.getMessage()]
    assert logged.activity_id == "b"  # the report whose answer was lost
    history = manager.process_by_id(process_id).history
    assert sorted(e.activity_execution.id for e in history if e.type == "activity") == ["a", "b"]
