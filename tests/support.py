"""Activities, workflows and small drivers shared by the behavioural suite.

Everything here goes through the public Manager / Backend API only, so the
same tests hold for every backend listed in ``tests/backends.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pyworkflow.activity import Activity
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.task import ActivityTask, DecisionTask
from pyworkflow.workflow import Workflow


def news(process: Process) -> list[Any]:
    """The unseen events less this decision's own earlier decisions: what came in."""
    return [event for event in process.unseen_events() if event.type != "decision"]


# -- activities ----------------------------------------------------------------------------


class EchoActivity(Activity):
    """Returns its input."""

    def execute(self) -> Any:
        return self.input


class TimeoutsActivity(Activity):
    """Distinct, short timeouts so each one can be made to expire on its own."""

    scheduled_timeout = 10
    execution_timeout = 100
    heartbeat_timeout = 20


class OtherQueueActivity(Activity):
    category = "other"

    def execute(self) -> Any:
        return "other"


# -- workflows -----------------------------------------------------------------------------


class ManualWorkflow(Workflow):
    """Driven by hand in tests: the test completes each decision task itself."""

    activities = [EchoActivity, TimeoutsActivity, OtherQueueActivity]
    timeout = 1000
    decision_timeout = 30

    def decide(self, process: Process) -> Any:
        raise AssertionError("ManualWorkflow is decided by the test itself")


class ShortWorkflow(Workflow):
    """A workflow whose processes time out quickly."""

    timeout = 50
    decision_timeout = 30

    def decide(self, process: Process) -> Any:
        raise AssertionError("ShortWorkflow is decided by the test itself")


ALL_WORKFLOWS: list[type[Workflow]] = [ManualWorkflow, ShortWorkflow]


# -- drivers -------------------------------------------------------------------------------


def start(manager: Manager, workflow: Any = ManualWorkflow, **fields: Any) -> str:
    return manager.start_process(Process(workflow=workflow, **fields))


def take_decision(manager: Manager, process_id: str | None = None) -> DecisionTask:
    """The next decision task, which must exist (and be for ``process_id`` if given).

    On PostgreSQL a claim skips a run whose row another transaction holds at that
    instant (an activity's heartbeat in a worker thread, say), as a worker would
    and then poll again: so a few polls are allowed before the task must be there."""
    task = manager.next_decision()
    for _ in range(20):
        if task is not None:
            break
        time.sleep(0.05)
        task = manager.next_decision()
    assert task is not None, "expected a decision task"
    if process_id is not None:
        assert task.process.id == process_id
    return task


def decide(manager: Manager, *decisions: Any, process_id: str | None = None) -> DecisionTask:
    """Take the next decision task and complete it with ``decisions``."""
    task = take_decision(manager, process_id)
    manager.complete_task(task, list(decisions))
    return task


def take_activity(manager: Manager, category: str = "default") -> ActivityTask:
    task = manager.next_activity(category=category)
    assert task is not None, "expected an activity task"
    return task


def types(process: Process) -> list[str]:
    return [event.type for event in process.history]


def no_tasks(manager: Manager) -> bool:
    return manager.next_decision() is None and manager.next_activity() is None


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``condition`` until it is truthy; fail (never pass) when it stays false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.002)
    raise AssertionError(f"condition still false after {timeout}s")
