"""Tasks: what a backend hands a worker, and what the worker hands back.

``context`` carries what the backend needs to recognise the task again (a claim
token, an SWF task token) and the attempt number; workers treat it as opaque.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._value import Value

if TYPE_CHECKING:
    from .activity import ActivityExecution
    from .process import Process


class Task(Value):
    context: dict[str, Any]

    @property
    def attempt(self) -> int:
        return int(self.context.get("attempt", 1))


class ActivityTask(Task):
    _fields = ("activity_execution", "process_id", "context")

    def __init__(
        self,
        activity_execution: ActivityExecution,
        process_id: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.activity_execution = activity_execution
        self.process_id = process_id
        self.context = context or {}


class DecisionTask(Task):
    _fields = ("process", "context")

    def __init__(self, process: Process, context: dict[str, Any] | None = None) -> None:
        self.process = process
        self.context = context or {}
