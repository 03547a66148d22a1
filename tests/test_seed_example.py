"""The README's quickstart, run as written with workers in threads."""

from __future__ import annotations

import time

import pytest

from pyworkflow.activity import ActivityAborted, ActivityFailed
from pyworkflow.clock import utcnow
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread


def wait_closed(manager: Manager, process_id: str, timeout: float = 10.0) -> Process:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process = manager.process_by_id(process_id)
        if not process.is_open:
            return process
        time.sleep(0.005)
    raise AssertionError(f"process {process_id} still open after {timeout}s")


@pytest.fixture
def manager(backend_factory):
    manager = Manager(backend=backend_factory(utcnow), workflows=[FooWorkflow])
    threads = [WorkerThread(ActivityWorker(manager)), WorkerThread(DecisionWorker(manager))]
    for thread in threads:
        thread.start()
    yield manager
    for thread in threads:
        thread.join(5)
        assert not thread.is_alive()


def activity_results(process: Process) -> list:
    return [event.result for event in process.history if event.type == "activity"]


def test_three_times_four_completes_with_twelve(manager):
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[3, 4]))
    process = wait_closed(manager, process_id)
    assert process.status == "completed"
    assert process.result == ProcessCompleted(12)
    assert [event.type for event in process.history] == [
        "process_started",
        "decision_started",
        "decision",
        "activity_started",
        "activity",
        "decision_started",
        "decision",
    ]
    times = [event.datetime for event in process.history]
    assert times == sorted(times), "event times must follow the order of the history"


@pytest.mark.needs("activity_canceled")
def test_first_operand_over_ten_is_aborted(manager):
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[11, 2]))
    process = wait_closed(manager, process_id)
    assert activity_results(process) == [ActivityAborted("first operand must be <= 10")]


def test_bad_input_records_activity_failed_naming_invalid_input(manager):
    process_id = manager.start_process(Process(workflow=FooWorkflow, input="bad"))
    process = wait_closed(manager, process_id)
    [result] = activity_results(process)
    assert isinstance(result, ActivityFailed)
    assert result.reason == "invalid input"
    assert "ValueError: invalid input" in result.details
