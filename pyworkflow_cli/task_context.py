"""Workers that put the task they run into the logging context.

Activities and deciders log with whatever logger they like (``shop.billing``);
those lines should say which task they belong to without the user passing
fields around. structlog's contextvars are merged into every record the
command renders, stdlib ones included, so binding the task's fields around
``handle`` is enough. Context variables belong to the thread (and to any
asyncio task started from it), so workers running side by side in threads
never see each other's task.

The library's workers know nothing of structlog; these subclasses are the
command's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from structlog.contextvars import bound_contextvars

from pyworkflow.worker import ActivityWorker, DecisionWorker

if TYPE_CHECKING:
    from pyworkflow.activity import ActivityResult
    from pyworkflow.task import ActivityTask, DecisionTask


def activity_fields(task: ActivityTask) -> dict[str, Any]:
    execution = task.activity_execution
    return {
        "process_id": task.process_id,
        "activity": execution.activity,
        "activity_id": execution.id,
        "attempt": task.attempt,
    }


def decision_fields(task: DecisionTask) -> dict[str, Any]:
    return {
        "process_id": task.process.id,
        "workflow": task.process.workflow,
        "attempt": task.attempt,
    }


class ContextActivityWorker(ActivityWorker):
    """An ActivityWorker whose activities' log lines carry the task's fields."""

    def handle(self, task: ActivityTask) -> ActivityResult | None:
        with bound_contextvars(**activity_fields(task)):
            return super().handle(task)


class ContextDecisionWorker(DecisionWorker):
    """A DecisionWorker whose deciders' log lines carry the task's fields."""

    def handle(self, task: DecisionTask) -> None:
        with bound_contextvars(**decision_fields(task)):
            super().handle(task)
