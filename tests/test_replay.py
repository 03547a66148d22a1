"""Replaying recorded histories against decider code, from every backend and from JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pyworkflow.decision import CompleteProcess, ScheduleActivity, Timer
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.replay import decision_points
from pyworkflow.signal import Signal
from pyworkflow.testing import ManualClock, ReplayMismatch, replay, run_until_idle
from pyworkflow_cli.render import dumps, process_data

from .test_retries import STARTS, FlakyActivity, FlakyWorkflow
from .test_workflows import SumWorkflow


@pytest.fixture
def manager(backend, clock: ManualClock) -> Manager:
    FlakyActivity.clock = clock
    STARTS.clear()
    return Manager(backend, workflows=[SumWorkflow, FlakyWorkflow])


def sum_history(manager: Manager, clock: ManualClock) -> Process:
    """A DefaultWorkflow with generated activity ids, a signal, a timer and markers."""
    process_id = manager.start_process(Process(SumWorkflow, input=[1, 2]))
    run_until_idle(manager)
    manager.signal_process(process_id, Signal("add", {"n": 5}))
    manager.signal_process(process_id, Signal("other"))
    run_until_idle(manager)
    clock.advance(10)
    run_until_idle(manager)
    process = manager.process_by_id(process_id)
    assert process.result.result == 16
    return process


def retried_history(manager: Manager, clock: ManualClock) -> Process:
    process_id = manager.start_process(Process(FlakyWorkflow, input={"fail": 2, "error": "E"}))
    for _ in range(4):
        run_until_idle(manager)
        clock.advance(20)
    process = manager.process_by_id(process_id)
    assert process.result.result == {"outcome": "completed", "activity_events": 1}
    return process


def test_unchanged_code_replays_its_own_history(manager, clock):
    process = sum_history(manager, clock)
    assert replay(SumWorkflow, process) == len(list(decision_points(process))) >= 4


def test_unchanged_code_replays_a_history_with_retries(manager, clock):
    process = retried_history(manager, clock)
    # start, two failures, two waits over, and the final outcome
    assert replay(FlakyWorkflow, process) == 6


def test_unchanged_code_replays_the_json_of_process_show(manager, clock):
    for process, workflow in (
        (sum_history(manager, clock), SumWorkflow),
        (retried_history(manager, clock), FlakyWorkflow),
    ):
        shown = dumps(process_data(process), pretty=True)
        assert replay(workflow, shown) == replay(workflow, process)
        assert replay(workflow, json.loads(shown)) == replay(workflow, process)


class ChangedSumWorkflow(SumWorkflow):
    """Waits 20 s instead of 10 once everything is back: the third decision differs."""

    name = "Sum"

    def respond_to_completed_activity(self, process, activity_execution, result):
        if not process.unfinished_activities():
            return Timer(20, data={"then": "complete"}, id="settle")
        return None


def test_a_changed_decider_fails_at_the_decision_point_that_differs(manager, clock):
    process = sum_history(manager, clock)
    with pytest.raises(ReplayMismatch) as raised:
        replay(ChangedSumWorkflow, process)
    mismatch = raised.value
    timers = [d for d in mismatch.replayed if isinstance(d, Timer)]
    assert [t.delay for t in timers] == [20]
    assert [d.delay for d in mismatch.recorded if isinstance(d, Timer)] == [10]
    points = list(decision_points(process))
    first_timer = next(p for p in points if any(isinstance(d, Timer) for d in p.decided))
    assert mismatch.point == first_timer.number
    assert f"decision point {first_timer.number}" in str(mismatch)


def test_a_changed_retry_policy_shows_in_the_replay(manager, clock):
    process = retried_history(manager, clock)

    class Impatient(FlakyActivity):
        name = "Flaky"
        retry = FlakyActivity.retry.__class__(max_attempts=3, initial_interval=1)

    class ImpatientWorkflow(FlakyWorkflow):
        name = "Flaky"
        activities = [Impatient]

    with pytest.raises(ReplayMismatch) as raised:
        replay(ImpatientWorkflow, process)
    assert raised.value.point == 2
    assert [d.delay for d in raised.value.replayed] == [1]


def test_a_decider_that_closes_early_mismatches(manager, clock):
    process = sum_history(manager, clock)

    class HastyWorkflow(SumWorkflow):
        name = "Sum"

        def initiate(self, process: Process) -> Any:
            return CompleteProcess(0)

    with pytest.raises(ReplayMismatch) as raised:
        replay(HastyWorkflow, process)
    assert raised.value.point == 1
    assert all(isinstance(d, ScheduleActivity) for d in raised.value.recorded[:2])


def test_every_event_reads_back_from_the_json_of_process_show():
    from pyworkflow.history_json import process_from_json

    from .test_codec import SAMPLES

    events = [value for value in SAMPLES if hasattr(value, "datetime") and value.type]
    shown = Process(workflow="W", id="p", input={"@": [1]}, tags=["t"], history=events)
    read = process_from_json(json.loads(dumps(process_data(shown))))
    assert read == shown
    assert [event.datetime for event in read.history] == [event.datetime for event in events]


def test_jittered_waits_replay_cleanly(backend, clock):
    from pyworkflow.retry import RetryPolicy

    class JitteryActivity(FlakyActivity):
        name = "Flaky"
        retry = RetryPolicy(max_attempts=3, initial_interval=10, jitter=0.5)

    class JitteryWorkflow(FlakyWorkflow):
        name = "Flaky"
        activities = [JitteryActivity]

    FlakyActivity.clock = clock
    STARTS.clear()
    manager = Manager(backend, workflows=[JitteryWorkflow])
    process = retried_history(manager, clock)
    waits = [
        e.decision.delay
        for e in process.history
        if e.type == "decision" and e.decision.type == "timer"
    ]
    assert len(waits) == 2 and waits != [10, 20]
    assert replay(JitteryWorkflow, process) == 6


class OnceBrokenWorkflow(SumWorkflow):
    """Raises on its first decision only: the failed decision decided nothing, so a
    replay skips it and checks the one that went through."""

    name = "Sum"
    broken = True

    def initiate(self, process: Process) -> Any:
        if OnceBrokenWorkflow.broken:
            OnceBrokenWorkflow.broken = False
            raise RuntimeError("not yet")
        return super().initiate(process)


def test_failed_decisions_are_skipped(backend, clock):
    OnceBrokenWorkflow.broken = True
    manager = Manager(backend, workflows=[OnceBrokenWorkflow])
    process_id = manager.start_process(Process(OnceBrokenWorkflow, input=[1]))
    run_until_idle(manager)
    clock.advance(60)  # the failed decision's backoff
    run_until_idle(manager)
    clock.advance(10)
    run_until_idle(manager)
    process = manager.process_by_id(process_id)
    assert process.result.result == 2
    assert "decision_failed" in [event.type for event in process.history]
    assert replay(SumWorkflow, process) == len(list(decision_points(process))) == 3
