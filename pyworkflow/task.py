"""Tasks: what a backend hands a worker, and what the worker hands back.

``context`` carries what the backend needs to recognise the task again (a claim
token, an SWF task token) and the attempt number; workers treat it as opaque.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Poll:
    """What a worker asks for when it claims a task, kept whole so that a report
    can carry the worker's next claim along (see ``Backend.complete_and_claim_*``)."""

    category: str
    identity: str | None = None
    #: The workflows or activities the worker has code for; None takes any.
    names: Sequence[str] | None = None
    #: Only tasks of this process and of the children it started.
    root_process: str | None = None
    #: The token the claimed task gets (None: a fresh one). A worker that chose it
    #: finds the task again (``Backend.claimed_decision_task``) when the answer
    #: that carried the claim was lost, instead of leaving it claimed by nobody.
    claim_token: str | None = None
