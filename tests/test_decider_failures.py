"""A decider that raises or returns garbage: recorded, re-offered after a backoff, never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.events import DecisionFailedEvent, ProcessStartedEvent, SignalEvent
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.signal import Signal
from pyworkflow.worker import DecisionWorker
from pyworkflow.workflow import Workflow

from .support import EchoActivity, start, take_decision


def failures(process: Process) -> int:
    return sum(1 for event in process.history if event.type == "decision_failed")


BAD_RETURNS: dict[str, Any] = {
    "raises": None,
    "string": "complete please",
    "number": 42,
    "object": object(),
    "list with junk": [CompleteProcess(), "junk"],
    "non-json payload": CompleteProcess({"when": object()}),
    "closing decision not last": [CompleteProcess(), ScheduleActivity(EchoActivity, id="x")],
}


class FlakyWorkflow(Workflow):
    """Misbehaves (in the way ``input['bad']`` names) until it has failed ``input['times']``
    times, then completes with the number of failures it saw."""

    activities = [EchoActivity]

    def decide(self, process: Process) -> Any:
        seen = failures(process)
        if seen < process.input["times"]:
            bad = process.input["bad"]
            if bad == "raises":
                raise ValueError(f"boom {seen}")
            return BAD_RETURNS[bad]
        return CompleteProcess(seen)


@pytest.fixture
def flaky(backend) -> Manager:
    return Manager(backend, workflows=[FlakyWorkflow])


def step(manager: Manager) -> bool:
    return DecisionWorker(manager).step()


def test_a_raising_decider_is_recorded_and_reoffered_after_a_backoff(flaky, clock):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": "raises", "times": 1})
    assert step(flaky)

    process = flaky.process_by_id(process_id)
    assert process.is_open
    failed = process.history[-1]
    assert isinstance(failed, DecisionFailedEvent)
    assert failed.reason == "ValueError: boom 0"
    assert "Traceback" in failed.details and "boom 0" in failed.details

    assert flaky.next_decision() is None  # backing off
    clock.advance(1)
    task = take_decision(flaky, process_id)
    assert task.attempt == 2
    assert ProcessStartedEvent() in task.process.unseen_events()  # nothing was seen yet
    flaky.complete_task(task, FlakyWorkflow().decide(task.process))
    assert flaky.process_by_id(process_id).result == ProcessCompleted(1)


@pytest.mark.parametrize("bad", sorted(BAD_RETURNS))
def test_garbage_from_a_decider_is_a_decision_failure_and_changes_nothing_else(flaky, clock, bad):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": bad, "times": 1})
    assert step(flaky)
    process = flaky.process_by_id(process_id)
    assert [event.type for event in process.history] == [
        "process_started",
        "decision_started",
        "decision_failed",
    ]
    assert flaky.next_activity() is None
    clock.advance(1)
    assert step(flaky)
    assert flaky.process_by_id(process_id).result == ProcessCompleted(1)


def test_backoff_doubles_and_the_task_is_never_dropped(flaky, clock):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": "raises", "times": 9})
    waits = []
    for _ in range(9):
        assert step(flaky)
        waited = 0
        while flaky.next_decision() is None:
            clock.advance(1)
            waited += 1
            assert waited <= 60, "a failed decision must come back within the backoff cap"
        # the poll above claimed the task: let it time out so the worker gets it back
        clock.advance(FlakyWorkflow.decision_timeout)
        waits.append(waited)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert step(flaky)
    assert flaky.process_by_id(process_id).result == ProcessCompleted(9)


def test_a_signal_during_the_backoff_is_seen_when_the_task_returns(flaky, clock):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": "raises", "times": 1})
    assert step(flaky)
    flaky.signal_process(process_id, Signal("meanwhile"))
    clock.advance(1)
    task = take_decision(flaky, process_id)
    assert flaky.next_decision() is None
    unseen = task.process.unseen_events()
    assert unseen[0] == ProcessStartedEvent()
    assert SignalEvent(Signal("meanwhile")) in unseen


def test_cancel_during_the_backoff_closes_with_no_more_tasks(flaky, clock):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": "raises", "times": 5})
    assert step(flaky)
    flaky.cancel_process(process_id)
    clock.advance(100)
    assert flaky.next_decision() is None
    assert flaky.process_by_id(process_id).status == "canceled"


def test_a_success_resets_the_backoff(flaky, clock):
    process_id = start(flaky, workflow=FlakyWorkflow, input={"bad": "raises", "times": 0})
    task = take_decision(flaky, process_id)
    flaky.fail_decision(task, "first")
    clock.advance(1)
    task = take_decision(flaky, process_id)
    flaky.fail_decision(task, "second")
    clock.advance(2)
    task = take_decision(flaky, process_id)
    flaky.complete_task(task, [])
    flaky.signal_process(process_id, Signal("next"))
    task = take_decision(flaky, process_id)  # at once: no backoff left over
    assert task.attempt == 1
    flaky.fail_decision(task, "third")
    assert flaky.next_decision() is None
    clock.advance(1)
    take_decision(flaky, process_id)


@pytest.mark.needs("poll_by_workflow")
def test_a_decider_that_does_not_know_the_workflow_leaves_the_task_to_one_that_does(backend):
    knows = Manager(backend, workflows=[FlakyWorkflow])
    stranger = Manager(backend)
    process_id = start(knows, workflow=FlakyWorkflow, input={"bad": "raises", "times": 0})
    assert not DecisionWorker(stranger).step()
    assert [event.type for event in knows.process_by_id(process_id).history] == ["process_started"]
    assert DecisionWorker(knows).step()
    assert knows.process_by_id(process_id).result == ProcessCompleted(
        0
    )  # no failed attempt came first


class LooksUpMissingWorkflow(Workflow):
    def decide(self, process: Process) -> Any:
        return CompleteProcess(self.manager.process_by_id("no-such-process").id)


def test_a_decider_raising_an_unknown_resource_error_still_records_a_failure(backend):
    manager = Manager(backend, workflows=[LooksUpMissingWorkflow])
    LooksUpMissingWorkflow.manager = manager  # type: ignore[attr-defined]
    process_id = start(manager, workflow=LooksUpMissingWorkflow)
    assert DecisionWorker(manager).step()
    failed = manager.process_by_id(process_id).history[-1]
    assert isinstance(failed, DecisionFailedEvent)
    assert "UnknownProcessException" in failed.reason
