"""What a worker does when activity code or the timing misbehaves."""

from __future__ import annotations

import logging
import sys
from typing import Any

from pyworkflow.activity import Activity, ActivityFailed
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.signal import Signal
from pyworkflow.worker import ActivityWorker
from pyworkflow.workflow import Workflow

from .support import EchoActivity, decide, start


class QuitActivity(Activity):
    def execute(self) -> Any:
        sys.exit(0)


class RobustnessWorkflow(Workflow):
    activities = [QuitActivity, EchoActivity]

    def decide(self, process: Process) -> Any:
        raise AssertionError("decided by the test itself")


def results(manager: Manager, process_id: str) -> list[Any]:
    history = manager.process_by_id(process_id).history
    return [event.result for event in history if event.type == "activity"]


def test_sys_exit_in_an_activity_fails_the_activity_and_the_worker_goes_on(backend):
    manager = Manager(backend, [RobustnessWorkflow])
    process_id = start(manager, workflow=RobustnessWorkflow)
    decide(
        manager,
        ScheduleActivity(QuitActivity, id="quit"),
        ScheduleActivity(EchoActivity, id="echo", input="still here"),
    )
    worker = ActivityWorker(manager)
    assert worker.run(max_tasks=2) == 2
    failed, completed = results(manager, process_id)
    assert isinstance(failed, ActivityFailed) and failed.reason == "activity called sys.exit(0)"
    assert completed.result == "still here"


def test_a_refused_result_is_logged_as_refused_not_as_done(backend, caplog):
    manager = Manager(backend, [RobustnessWorkflow])
    process_id = start(manager, workflow=RobustnessWorkflow)
    decide(manager, ScheduleActivity(EchoActivity, id="echo", input=1))
    task = manager.next_activity()
    manager.cancel_process(process_id)
    with caplog.at_level(logging.INFO, logger="pyworkflow.worker"):
        ActivityWorker(manager).handle(task)
    [record] = [r for r in caplog.records if getattr(r, "activity_id", None) == "echo"]
    assert record.levelno == logging.WARNING
    assert record.outcome == "refused"  # type: ignore[attr-defined]


class SignalledWorkflow(Workflow):
    def decide(self, process: Process) -> Any:
        return CompleteProcess("done")


def test_blinker_does_not_announce_a_close_the_engine_refused(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    completed: list[Any] = []
    backend.on_process_completed.connect(
        lambda sender, **kwargs: completed.append(kwargs["result"]), weak=False
    )
    manager = Manager(backend, [SignalledWorkflow])
    process_id = manager.start_process(Process(workflow=SignalledWorkflow))
    task = manager.next_decision()
    manager.signal_process(process_id, Signal("late"))  # arrives while deciding
    manager.complete_task(task, CompleteProcess("done"))
    assert manager.process_by_id(process_id).is_open
    assert completed == []

    manager.complete_task(manager.next_decision(), CompleteProcess("done"))
    assert completed == ["done"]
