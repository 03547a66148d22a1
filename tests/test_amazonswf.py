"""AmazonSWFBackend against moto's SWF server, over HTTP: the seed example end to
end through worker threads, and the suite's workflows where moto supports them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pyworkflow.activity import ActivityCompleted, ActivityFailed
from pyworkflow.backend.amazonswf import AmazonSWFBackend
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.observe import PublishedEvent
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread

from .swf_server import moto_server, swf_backend


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def backend(endpoint: str) -> Iterator[AmazonSWFBackend]:
    with swf_backend(endpoint) as backend:
        yield backend


@pytest.fixture
def manager(backend: AmazonSWFBackend) -> Iterator[Manager]:
    manager = Manager(backend=backend, workflows=[FooWorkflow])
    threads = [WorkerThread(ActivityWorker(manager)), WorkerThread(DecisionWorker(manager))]
    for thread in threads:
        thread.start()
    yield manager
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


def wait_closed(manager: Manager, process_id: str, timeout: float = 30.0) -> Process:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process = manager.process_by_id(process_id)
        if not process.is_open:
            return process
        time.sleep(0.2)
    raise AssertionError(f"process {process_id} still open after {timeout}s")


def activity_results(process: Process) -> list:
    return [event.result for event in process.history if event.type == "activity"]


def test_seed_example_completes_with_twelve(manager: Manager) -> None:
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[3, 4]))
    process = wait_closed(manager, process_id)
    assert process.status == "completed"
    assert process.result == ProcessCompleted(12)
    assert process.input == [3, 4]
    assert [event.type for event in process.history] == [
        "process_started",
        "decision_started",
        "decision",
        "activity_started",
        "activity",
        "decision_started",
        "decision",
    ]
    assert activity_results(process) == [ActivityCompleted(12)]


def test_falsy_result_comes_back_as_itself(manager: Manager) -> None:
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[0, 4]))
    process = wait_closed(manager, process_id)
    assert process.result == ProcessCompleted(0)
    assert activity_results(process) == [ActivityCompleted(0)]


def test_failed_activity_reads_back_as_on_every_backend(manager: Manager) -> None:
    # The aborted case answers with RespondActivityTaskCanceled, which moto lacks:
    # tests/test_swf_requests.py checks that request against the SWF API model.
    failed = manager.start_process(Process(workflow=FooWorkflow, input="bad"))
    [result] = activity_results(wait_closed(manager, failed))
    assert isinstance(result, ActivityFailed)
    assert result.reason == "invalid input"
    assert "ValueError: invalid input" in result.details


def test_listing_by_status_workflow_and_tag(manager: Manager) -> None:
    done = manager.start_process(Process(workflow=FooWorkflow, input=[2, 2], tags=["blue"]))
    wait_closed(manager, done)
    closed = manager.processes(status="closed")
    assert [p.id for p in closed] == [done]
    assert closed[0].status == "completed"
    assert closed[0].result == ProcessCompleted(4)
    assert [p.id for p in manager.processes(tag="blue", status="all")] == [done]
    assert manager.processes(tag="red", status="all") == []
    assert manager.processes(status="open") == []
    # The history, read on first use, is the whole run's.
    assert closed[0].history[-1].decision.result == 4


def test_observers_hear_each_event_once(backend: AmazonSWFBackend, manager: Manager) -> None:
    heard: list[PublishedEvent] = []
    backend.add_observer(heard.extend)
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[1, 5]))
    process = wait_closed(manager, process_id)
    manager.process_by_id(process_id)  # a second read announces nothing new
    assert [p.event for p in heard] == process.history
    assert {p.process_id for p in heard} == {process_id}
