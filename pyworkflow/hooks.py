"""Worker hooks: what runs around each task and each poll, outside the worker's logic.

Logging context, metrics and tracing are concerns of the deployment, not of
the worker loop, so they plug in here, as Temporal's interceptors do: each hook
wraps the task and calls ``proceed()``, which runs the rest of the chain and
then the task itself, and answers how it ended. Hooks are given to a worker as
a sequence; the first is the outermost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .task import ActivityTask, DecisionTask


class Outcome:
    """How a task ended, as hooks and metrics name it."""

    COMPLETED = "completed"  # an activity's result, or a decider's decisions, were recorded
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"  # the backend no longer held the task when it was reported
    REFUSED = "refused"  # the backend refused the report for another reason
    HANDED_OFF = "handed_off"  # an activity that completes itself later


@dataclass(frozen=True)
class TaskInfo:
    """What a hook knows of the task it wraps."""

    kind: str  # "activity" or "decision"
    name: str  # the activity's or the workflow's name
    process_id: str
    attempt: int
    worker: str
    task: ActivityTask | DecisionTask
    activity_id: str | None = None

    @property
    def fields(self) -> dict[str, object]:
        """The task's fields as log lines carry them."""
        fields: dict[str, object] = {"process_id": self.process_id, "attempt": self.attempt}
        if self.kind == "activity":
            fields.update(activity=self.name, activity_id=self.activity_id)
        else:
            fields["workflow"] = self.name
        return fields


class WorkerHook:
    """A hook that does nothing; subclass it and override what you need."""

    def around_task(self, info: TaskInfo, proceed: Callable[[], str]) -> str:
        """Run ``proceed()`` (the task) and return its outcome; may add before and after."""
        return proceed()

    def poll_finished(self, worker: str, kind: str, got_task: bool) -> None:
        """A poll returned, with a task or empty. A task claimed along with the
        worker's last report counts as a poll that found it."""

    def poll_failed(self, worker: str, kind: str, error: BaseException) -> None:
        """A poll raised: the backend could not be reached or refused."""


def run_with_hooks(hooks: Sequence[WorkerHook], info: TaskInfo, task: Callable[[], str]) -> str:
    """Run ``task`` inside every hook, the first hook outermost."""
    call = task
    for hook in reversed(hooks):
        call = _bind(hook, info, call)
    return call()


def _bind(hook: WorkerHook, info: TaskInfo, proceed: Callable[[], str]) -> Callable[[], str]:
    return lambda: hook.around_task(info, proceed)
