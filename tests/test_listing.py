"""Listing processes costs a row each; a listed process's history is read when used."""

from __future__ import annotations

from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.testing import run_until_idle


def test_a_listed_process_has_its_times_and_reads_its_history_when_asked(backend, clock):
    manager = Manager(backend, [FooWorkflow])
    process_id = manager.start_process(Process(workflow=FooWorkflow, input=[2, 2]))
    clock.advance(5)
    run_until_idle(manager)

    [listed] = manager.processes(status="all")
    stored = manager.process_by_id(process_id)
    assert listed.started_at == stored.history[0].datetime
    assert listed.closed_at == stored.history[-1].datetime
    assert listed.history == stored.history
    assert listed == stored
