"""Retry policies on every backend: attempts, waits, and what the decider sees."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow.activity import Activity
from pyworkflow.decision import CancelActivity, CompleteProcess, ScheduleActivity
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessStatus
from pyworkflow.retry import RetryPolicy
from pyworkflow.retrying import RetryView, policy_lookup
from pyworkflow.signal import Signal
from pyworkflow.testing import ManualClock, run_until_idle
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import Workflow

STARTS: dict[str, list[Any]] = {}


class FlakyActivity(Activity):
    """Fails the first ``input["fail"]`` attempts with ``input["error"]``, then returns."""

    clock: Any = None
    retry = RetryPolicy(max_attempts=3, initial_interval=10, backoff_coefficient=2)
    scheduled_timeout = 50

    def execute(self) -> Any:
        starts = STARTS.setdefault(str(self.task.process_id), [])
        starts.append(self.clock())
        if len(starts) <= self.input["fail"]:
            raise {"ValueError": ValueError, "RuntimeError": RuntimeError}[self.input["error"]](
                f"attempt {len(starts)}"
            )
        return len(starts)


class FlakyWorkflow(Workflow):
    """Schedules one flaky activity; completes with what it saw of it. A signal
    ``cancel`` cancels the activity."""

    activities = [FlakyActivity]
    timeout = 10_000

    def decide(self, process: Process) -> Any:
        history: list[Any] = process.history
        outcomes = [event for event in history if event.type == "activity"]
        if outcomes:
            return CompleteProcess(
                {"outcome": outcomes[-1].result.type, "activity_events": len(outcomes)}
            )
        if any(event.type == "signal" for event in process.unseen_events()):
            return CancelActivity("flaky")
        if len(process.history) == 2:  # process started, decision started
            return ScheduleActivity(FlakyActivity, id="flaky", input=process.input)
        return None


@pytest.fixture
def flaky(backend, clock: ManualClock) -> Manager:
    FlakyActivity.clock = clock
    STARTS.clear()
    return Manager(backend, workflows=[FlakyWorkflow])


def start(manager: Manager, fail: int, error: str = "RuntimeError") -> str:
    return manager.start_process(Process(FlakyWorkflow, input={"fail": fail, "error": error}))


def seconds_between(starts: list[Any]) -> list[float]:
    return [
        (later - earlier).total_seconds()
        for earlier, later in zip(starts, starts[1:], strict=False)
    ]


def test_failing_twice_then_succeeding_waits_10_then_20_seconds(flaky, clock):
    process_id = start(flaky, fail=2)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 1
    clock.advance(9.99)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 1, "the second attempt came before 10 s"
    clock.advance(0.01)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 2
    clock.advance(19.99)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 2, "the third attempt came before 20 s"
    clock.advance(0.01)
    run_until_idle(flaky)
    assert seconds_between(STARTS[process_id]) == [10, 20]
    process = flaky.process_by_id(process_id)
    assert process.status == ProcessStatus.COMPLETED
    assert process.result.result == {"outcome": "completed", "activity_events": 1}


def test_the_history_shows_each_attempt_and_wait_to_the_decider(flaky, clock, monkeypatch):
    seen: list[Process] = []
    original = FlakyWorkflow.decide
    monkeypatch.setattr(
        FlakyWorkflow,
        "decide",
        lambda self, process: seen.append(process) or original(self, process),
    )
    process_id = start(flaky, fail=1)
    run_until_idle(flaky)
    clock.advance(10)
    run_until_idle(flaky)
    assert flaky.process_by_id(process_id).status == ProcessStatus.COMPLETED
    last = seen[-1]
    kinds = [event.type for event in last.history if event.type.startswith("activity")]
    assert kinds == [
        "activity_started",
        "activity_attempt_failed",
        "activity_retry_scheduled",
        "activity_attempt_scheduled",
        "activity_started",
        "activity",
    ]
    retried = [event for event in last.history if hasattr(event, "attempt")]
    assert [(event.type, event.attempt) for event in retried] == [
        ("activity_attempt_failed", 1),
        ("activity_retry_scheduled", 2),
        ("activity_attempt_scheduled", 2),
    ]
    assert {event.activity_execution.id for event in retried} == {"flaky"}
    assert retried[1].delay == 10
    # The decider was asked on start and on the final outcome only, never on the failure.
    assert len(seen) == 2


def test_unfinished_activities_lists_an_activity_waiting_to_retry(flaky, clock):
    process_id = start(flaky, fail=1)
    run_until_idle(flaky)
    view = RetryView(flaky.process_by_id(process_id), policy_lookup(flaky.activities)).view()
    assert [execution.id for execution in view.unfinished_activities()] == ["flaky"]


def test_a_non_retryable_error_ends_after_one_attempt(backend, clock):
    FlakyActivity.clock = clock
    STARTS.clear()

    class StrictWorkflow(FlakyWorkflow):
        def decide(self, process: Process) -> Any:
            decided = super().decide(process)
            if isinstance(decided, ScheduleActivity):
                policy = RetryPolicy(max_attempts=3, non_retryable=["ValueError"])
                return ScheduleActivity(FlakyActivity, "flaky", input=decided.input, retry=policy)
            return decided

    manager = Manager(backend, workflows=[StrictWorkflow])
    process_id = manager.start_process(
        Process(StrictWorkflow, input={"fail": 2, "error": "ValueError"})
    )
    run_until_idle(manager)
    clock.advance(1000)
    run_until_idle(manager)
    assert len(STARTS[process_id]) == 1
    result = manager.process_by_id(process_id).result.result
    assert result == {"outcome": "failed", "activity_events": 1}


def test_exhausted_attempts_give_the_last_failure(flaky, clock):
    process_id = start(flaky, fail=5)
    for _ in range(5):
        run_until_idle(flaky)
        clock.advance(100)
    assert len(STARTS[process_id]) == 3
    process = flaky.process_by_id(process_id)
    assert process.result.result == {"outcome": "failed", "activity_events": 1}
    final = [event for event in process.history if event.type == "activity"][-1]
    assert "attempt 3" in final.result.reason


def test_a_timed_out_attempt_is_retried(flaky, clock):
    process_id = start(flaky, fail=0)
    deciding = DecisionWorker(flaky)
    assert deciding.step()  # schedules the activity; no activity worker takes it
    clock.advance(FlakyActivity.scheduled_timeout + 1)
    assert deciding.step()  # the timeout: the retry is scheduled, decide() is not asked
    assert flaky.process_by_id(process_id).is_open
    clock.advance(10)
    run_until_idle(flaky)
    assert not ActivityWorker(flaky).step()
    process = flaky.process_by_id(process_id)
    assert process.result.result == {"outcome": "completed", "activity_events": 1}
    assert len(STARTS[process_id]) == 1


def test_canceling_the_activity_stops_a_pending_retry(flaky, clock):
    process_id = start(flaky, fail=1)
    run_until_idle(flaky)
    flaky.signal_process(process_id, Signal("cancel"))
    run_until_idle(flaky)
    clock.advance(1000)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 1
    process = flaky.process_by_id(process_id)
    assert process.result.result == {"outcome": "canceled", "activity_events": 1}


def test_canceling_the_process_stops_a_pending_retry(flaky, clock):
    process_id = start(flaky, fail=1)
    run_until_idle(flaky)
    flaky.cancel_process(process_id)
    clock.advance(1000)
    run_until_idle(flaky)
    assert len(STARTS[process_id]) == 1
    assert flaky.process_by_id(process_id).status == ProcessStatus.CANCELED


def test_a_per_call_policy_survives_storage(backend):
    policy = RetryPolicy(max_attempts=4, initial_interval=0.5, non_retryable=["ValueError"])

    class PolicyWorkflow(Workflow):
        activities = [FlakyActivity]

        def decide(self, process: Process) -> Any:
            return ScheduleActivity(FlakyActivity, "once", input=process.input, retry=policy)

    manager = Manager(backend, workflows=[PolicyWorkflow])
    process_id = manager.start_process(Process(PolicyWorkflow, input={"fail": 0}))
    DecisionWorker(manager).step()
    stored = manager.process_by_id(process_id)
    decisions = [event.decision for event in stored.history if event.type == "decision"]
    assert [decision.retry_policy for decision in decisions] == [policy]
