"""Process ids, lookup of open and closed processes, and listing with filters."""

from __future__ import annotations

import uuid

import pytest

from pyworkflow.decision import CompleteProcess, FailProcess
from pyworkflow.exceptions import (
    ProcessAlreadyOpenException,
    UnknownProcessException,
    UnknownWorkflowException,
)
from pyworkflow.process import Process, ProcessCompleted, ProcessFailed

from .support import ManualWorkflow, ShortWorkflow, decide, start, take_decision


def test_a_process_without_an_id_gets_a_uuid(manager):
    process_id = start(manager)
    assert str(uuid.UUID(process_id)) == process_id
    assert start(manager) != process_id


def test_a_caller_chosen_id_is_kept(manager):
    assert start(manager, id="order-17") == "order-17"
    assert manager.process_by_id("order-17").id == "order-17"


def test_a_caller_chosen_id_is_unique_among_open_processes(manager):
    start(manager, id="order-17", input=1)
    before = manager.process_by_id("order-17")
    with pytest.raises(ProcessAlreadyOpenException):
        start(manager, id="order-17", input=2)
    assert manager.process_by_id("order-17") == before
    assert len(manager.processes(status="all")) == 1
    take_decision(manager, "order-17")
    assert manager.next_decision() is None  # the refused start scheduled nothing


@pytest.mark.needs("id_reuse_runs")
def test_an_id_is_reusable_once_its_process_closed(manager):
    start(manager, id="job", input="first")
    decide(manager, CompleteProcess("first"), process_id="job")
    start(manager, id="job", input="second")
    process = manager.process_by_id("job")
    assert process.is_open and process.input == "second"
    decide(manager, CompleteProcess("second"), process_id="job")
    runs = manager.processes(status="completed")
    assert sorted(run.result.result for run in runs) == ["first", "second"]


def test_process_by_id_returns_closed_processes_with_status_and_result(manager):
    process_id = start(manager, input=[1, 2], tags=["a"])
    open_process = manager.process_by_id(process_id)
    assert (open_process.status, open_process.result) == ("open", None)
    decide(manager, CompleteProcess(12), process_id=process_id)
    closed = manager.process_by_id(process_id)
    assert (closed.status, closed.result) == ("completed", ProcessCompleted(12))
    assert closed.input == [1, 2] and closed.tags == ["a"]
    assert closed.workflow == "Manual"


def test_process_by_id_of_an_unknown_id_is_refused(manager):
    with pytest.raises(UnknownProcessException):
        manager.process_by_id("nothing")


def test_starting_an_unregistered_workflow_is_refused(manager):
    with pytest.raises(UnknownWorkflowException):
        manager.start_process(Process(workflow="Unregistered"))
    assert manager.processes(status="all") == []


@pytest.fixture
def populated(manager):
    ids = {
        "open-manual": start(manager, workflow=ManualWorkflow, tags=["red"]),
        "open-short": start(manager, workflow=ShortWorkflow, tags=["red", "blue"]),
    }
    for _ in range(2):
        decide(manager)
    ids["done"] = start(manager, workflow=ManualWorkflow, tags=["blue"])
    decide(manager, CompleteProcess(1), process_id=ids["done"])
    ids["failed"] = start(manager, workflow=ShortWorkflow)
    decide(manager, FailProcess("no"), process_id=ids["failed"])
    ids["canceled"] = start(manager, workflow=ManualWorkflow, tags=["red"])
    manager.cancel_process(ids["canceled"])
    return ids


def listed(manager, **filters) -> set[str]:
    return {process.id for process in manager.processes(**filters)}


def test_processes_lists_open_ones_by_default(manager, populated):
    assert listed(manager) == {populated["open-manual"], populated["open-short"]}
    assert listed(manager, status="open") == listed(manager)


@pytest.mark.needs("close_status_filter")
def test_processes_filters_by_status(manager, populated):
    assert listed(manager, status="closed") == {
        populated["done"],
        populated["failed"],
        populated["canceled"],
    }
    assert listed(manager, status="all") == set(populated.values())
    assert listed(manager, status=None) == set(populated.values())
    assert listed(manager, status="completed") == {populated["done"]}
    assert listed(manager, status="failed") == {populated["failed"]}
    assert listed(manager, status="canceled") == {populated["canceled"]}
    assert listed(manager, status="terminated") == set()


def test_processes_filters_by_workflow_class_or_name(manager, populated):
    assert listed(manager, workflow=ManualWorkflow) == {populated["open-manual"]}
    assert listed(manager, workflow="Short", status="all") == {
        populated["open-short"],
        populated["failed"],
    }


def test_processes_filters_by_tag(manager, populated):
    assert listed(manager, tag="red") == {populated["open-manual"], populated["open-short"]}
    assert listed(manager, tag="blue", status="all") == {populated["open-short"], populated["done"]}
    assert listed(manager, tag="red", workflow=ShortWorkflow) == {populated["open-short"]}
    assert listed(manager, tag="green", status="all") == set()


@pytest.mark.needs("close_status_filter")
def test_listed_processes_carry_history_status_and_result(manager, populated):
    [done] = manager.processes(status="completed")
    assert done == manager.process_by_id(populated["done"])
    assert done.result == ProcessCompleted(1)
    [failed] = manager.processes(status="failed")
    assert failed.result == ProcessFailed("no")


def test_an_unknown_status_is_refused(manager):
    with pytest.raises(ValueError, match="status"):
        manager.processes(status="sleeping")
