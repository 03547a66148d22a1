from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.testing import run_process, run_until_idle


def test_run_process_drives_the_quickstart_to_its_result(backend):
    manager = Manager(backend, [FooWorkflow])
    process = run_process(manager, Process(workflow=FooWorkflow, input=[3, 4]))
    assert process.result == ProcessCompleted(12)


def test_run_until_idle_counts_the_tasks_it_ran(backend):
    manager = Manager(backend, [FooWorkflow])
    manager.start_process(Process(workflow=FooWorkflow, input=[2, 5]))
    manager.start_process(Process(workflow=FooWorkflow, input=[1, 1]))
    # each process: decide, multiply, decide
    assert run_until_idle(manager) == 6
    assert run_until_idle(manager) == 0
