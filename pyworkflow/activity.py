"""Activities: the units of business work, and the results they report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ._naming import classproperty, strip_suffix
from ._value import Value
from .defaults import Defaults
from .exceptions import UnknownActivityException

if TYPE_CHECKING:
    from .retry import RetryPolicy
    from .task import ActivityTask


class ActivityExecution(Value):
    """One scheduled run of an activity; ``activity`` is the activity's name."""

    _fields = ("activity", "id", "input")

    def __init__(self, activity: str, id: str, input: Any = None) -> None:
        self.activity = activity
        self.id = id
        self.input = input


class ActivityResult(Value):
    type: ClassVar[str] = ""


class ActivityCompleted(ActivityResult):
    type = "completed"
    _fields = ("result",)

    def __init__(self, result: Any = None) -> None:
        self.result = result


class InterruptedActivityResult(ActivityResult, Exception):
    """A result that is also an exception, so an activity may return or raise it."""

    __hash__ = ActivityResult.__hash__


class ActivityCanceled(InterruptedActivityResult):
    type = "canceled"
    _fields = ("details",)

    def __init__(self, details: Any = None) -> None:
        Exception.__init__(self, details)
        self.details = details


ActivityAborted = ActivityCanceled


class ActivityFailed(InterruptedActivityResult):
    type = "failed"
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None) -> None:
        Exception.__init__(self, reason)
        self.reason = reason
        self.details = details


class ActivityTimedOut(InterruptedActivityResult):
    """``details`` names the timeout that expired: scheduled, execution or heartbeat."""

    type = "timedout"
    _fields = ("details",)

    def __init__(self, details: Any = None) -> None:
        Exception.__init__(self, details)
        self.details = details


class ActivityMonitor:
    """Lets a running activity talk to whoever runs it, without knowing who that is.

    ``heartbeat_fn`` returns True when cancellation of the task was requested.
    Only ``True`` means that: 2014's heartbeat functions returned whatever came
    to hand (None, a response object), and none of that may cancel an activity.
    """

    def __init__(self, heartbeat_fn: Callable[[], Any] | None = None) -> None:
        self._heartbeat_fn = heartbeat_fn

    def heartbeat(self) -> bool:
        return self._heartbeat_fn is not None and self._heartbeat_fn() is True


class Activity:
    """Business logic run on one task's input; subclasses override ``execute``."""

    scheduled_timeout: ClassVar[float] = Defaults.ACTIVITY_SCHEDULED_TIMEOUT
    execution_timeout: ClassVar[float] = Defaults.ACTIVITY_EXECUTION_TIMEOUT
    heartbeat_timeout: ClassVar[float] = Defaults.ACTIVITY_HEARTBEAT_TIMEOUT
    category: ClassVar[str] = Defaults.ACTIVITY_CATEGORY
    auto_complete: ClassVar[bool] = True
    #: Without a policy a failure goes straight to the decider, as it always has.
    retry: ClassVar[RetryPolicy | None] = None

    @classproperty
    def name(cls: type) -> str:  # noqa: N805 - a class property
        return strip_suffix(cls.__name__, "Activity")

    def __init__(self, task: ActivityTask, monitor: ActivityMonitor | None = None) -> None:
        self._task = task
        self._monitor = monitor

    @property
    def input(self) -> Any:
        return self._task.activity_execution.input

    @property
    def task(self) -> ActivityTask:
        return self._task

    @property
    def monitor(self) -> ActivityMonitor | None:
        return self._monitor

    def heartbeat(self) -> None:
        """Give a sign of life; raises ActivityCanceled once cancellation was requested.

        Raising stops a long loop at its next heartbeat without extra code; catch
        it to clean up and re-raise, or return another result instead.
        """
        if self._monitor is None:
            return
        try:
            cancel_requested = self._monitor.heartbeat()
        except UnknownActivityException as gone:
            # The task timed out or its process closed: nobody awaits the result,
            # so stop the same way a cancel does and let cleanup code run.
            raise ActivityCanceled(f"task is no longer open: {gone}") from gone
        if cancel_requested:
            raise ActivityCanceled("cancel requested")

    def execute(self) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Activity):
            return NotImplemented
        return type(other) is type(self) and other._task == self._task

    def __hash__(self) -> int:
        return hash(type(self))
