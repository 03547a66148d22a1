"""SIGTERM mid-task: the worker finishes the task in hand, reports it, and stops."""

from __future__ import annotations

import signal

from pyworkflow.activity import ActivityCompleted
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow_cli.running import run_workers
from tests.cli.sample_workflows import GatedWorkflow


def test_sigterm_mid_task_finishes_the_task_then_stops():
    manager = Manager(MemoryBackend(), [GatedWorkflow])
    process_id = manager.start_process(
        Process(workflow=GatedWorkflow, input={"kill_self": "SIGTERM", "result": "finished"})
    )
    assert DecisionWorker(manager).run(max_tasks=1) == 1
    before = signal.getsignal(signal.SIGTERM)

    # The activity sends SIGTERM to this process while it runs; without a
    # graceful stop the test run itself would be terminated.
    handled = run_workers([ActivityWorker(manager)])

    assert handled == 1
    history = manager.process_by_id(process_id).history
    assert [event.result for event in history if event.type == "activity"] == [
        ActivityCompleted("finished")
    ]
    assert signal.getsignal(signal.SIGTERM) is before


def test_sigint_is_graceful_too():
    manager = Manager(MemoryBackend(), [GatedWorkflow])
    manager.start_process(Process(workflow=GatedWorkflow, input={"kill_self": "SIGINT"}))
    worker = DecisionWorker(manager)
    worker.run(max_tasks=1)
    assert run_workers([ActivityWorker(manager), DecisionWorker(manager)]) >= 1
