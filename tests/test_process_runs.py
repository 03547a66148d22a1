"""Every run of a process id stays readable: a reused id and ContinueAsNew."""

from __future__ import annotations

import pytest

from pyworkflow.decision import CompleteProcess, ContinueAsNew
from pyworkflow.exceptions import UnknownProcessException
from pyworkflow.process import Process, ProcessCompleted, ProcessContinuedAsNew

from .support import ManualWorkflow, take_decision


def finish(manager, process_id, decision):
    manager.complete_task(take_decision(manager, process_id), decision)


@pytest.mark.needs("id_reuse_runs")
def test_runs_of_a_reused_id_oldest_first(manager):
    manager.start_process(Process(workflow=ManualWorkflow, id="order-1", input=1))
    finish(manager, "order-1", CompleteProcess("first"))
    manager.start_process(Process(workflow=ManualWorkflow, id="order-1", input=2))

    runs = manager.process_runs("order-1")
    assert [(run.input, run.status) for run in runs] == [(1, "completed"), (2, "open")]
    assert runs[0].result == ProcessCompleted("first")
    assert runs[0].closed_at is not None
    assert runs[-1] == manager.process_by_id("order-1")
    assert runs[0].history[0].type == "process_started"


@pytest.mark.needs("continue_as_new")
def test_continue_as_new_adds_a_run(manager):
    manager.start_process(Process(workflow=ManualWorkflow, id="loop", input=1))
    finish(manager, "loop", ContinueAsNew(input=2))
    runs = manager.process_runs("loop")
    assert [run.input for run in runs] == [1, 2]
    assert runs[0].result == ProcessContinuedAsNew(2)


def test_runs_of_an_unknown_id(manager):
    with pytest.raises(UnknownProcessException):
        manager.process_runs("nobody")
