"""Decisions: what a workflow's ``decide`` returns, each applied by the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import uuid4

from ._ids import as_id, required_id
from ._naming import name_of
from ._value import Value
from .defaults import Defaults
from .retry import RetryPolicy

if TYPE_CHECKING:
    from .process import Process

CHILD_POLICIES = ("TERMINATE", "REQUEST_CANCEL", "ABANDON")


class Decision(Value):
    type: ClassVar[str] = ""
    closes_process: ClassVar[bool] = False


class ScheduleActivity(Decision):
    """``activity`` is an Activity class or its name; ``category`` overrides its task list;
    ``retry`` (a RetryPolicy) overrides the activity class's retry policy for this call.

    The policy is kept in its JSON form, as every other field is a payload that any
    backend stores as it is; ``retry_policy`` gives it back as a RetryPolicy.
    """

    type = "schedule_activity"
    _fields = ("activity", "id", "category", "input", "retry")

    def __init__(
        self,
        activity: Any,
        id: str | None = None,
        category: str | None = None,
        input: Any = None,
        retry: RetryPolicy | dict[str, Any] | None = None,
    ) -> None:
        self.activity = name_of(activity)
        self.id = as_id(id, "activity id") or str(uuid4())
        self.category = category
        self.input = input
        self.retry: dict[str, Any] | None = _policy_data(retry)

    @property
    def retry_policy(self) -> RetryPolicy | None:
        return None if self.retry is None else RetryPolicy(**self.retry)


def _policy_data(retry: Any) -> dict[str, Any] | None:
    if retry is None or isinstance(retry, dict):
        return retry
    return {name: getattr(retry, name) for name in retry._fields}


class CancelActivity(Decision):
    type = "cancel_activity"
    _fields = ("id",)

    def __init__(self, activity_or_id: Any) -> None:
        self.id = required_id(getattr(activity_or_id, "id", activity_or_id), "activity id")


class CompleteProcess(Decision):
    type = "complete_process"
    closes_process = True
    _fields = ("result",)

    def __init__(self, result: Any = None) -> None:
        self.result = result


class CancelProcess(Decision):
    type = "cancel_process"
    closes_process = True
    _fields = ("details",)

    def __init__(self, details: Any = None) -> None:
        self.details = details


class FailProcess(Decision):
    type = "fail_process"
    closes_process = True
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None) -> None:
        self.reason = reason
        self.details = details


class ContinueAsNew(Decision):
    """Close this run and start a fresh one under the same process id, history reset."""

    type = "continue_as_new"
    closes_process = True
    _fields = ("input", "tags")

    def __init__(self, input: Any = None, tags: list[str] | None = None) -> None:
        self.input = input
        self.tags = tags


class StartChildProcess(Decision):
    """Start ``process`` as a child; ``child_policy`` says what happens to it when
    the parent closes first: TERMINATE, REQUEST_CANCEL or ABANDON."""

    type = "start_child_process"
    _fields = ("process", "child_policy")

    def __init__(self, process: Process, child_policy: str = Defaults.CHILD_POLICY) -> None:
        self.process = process if process.id else process.copy_with_id(str(uuid4()))
        self.child_policy = child_policy


class Timer(Decision):
    """Fire a TimerEvent after ``delay`` seconds; give an ``id`` to cancel it later."""

    type = "timer"
    _fields = ("delay", "data", "id")

    def __init__(self, delay: float, data: Any = None, id: str | None = None) -> None:
        self.delay = delay
        self.data = {} if data is None else data
        self.id = as_id(id, "timer id")


class CancelTimer(Decision):
    type = "cancel_timer"
    _fields = ("id",)

    def __init__(self, timer_or_id: Any) -> None:
        self.id = required_id(getattr(timer_or_id, "id", timer_or_id), "timer id")


class RecordMarker(Decision):
    """A note in the history for later decisions to read; it schedules nothing."""

    type = "record_marker"
    _fields = ("name", "details")

    def __init__(self, name: str, details: Any = None) -> None:
        self.name = name
        self.details = details


class SignalProcess(Decision):
    type = "signal_process"
    _fields = ("process_id", "name", "data")

    def __init__(self, process_id: str, name: str, data: Any = None) -> None:
        self.process_id = required_id(process_id, "process id")
        self.name = name
        self.data = data


class RequestCancelProcess(Decision):
    """Ask another process to cancel; its decider sees a CancelRequestedEvent and chooses."""

    type = "request_cancel_process"
    _fields = ("process_id", "details")

    def __init__(self, process_id: str, details: Any = None) -> None:
        self.process_id = required_id(process_id, "process id")
        self.details = details
