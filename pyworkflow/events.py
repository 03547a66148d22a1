"""Events: the entries of a process history, in the 2014 layout plus the new ones.

Every event carries a UTC ``datetime`` that never takes part in equality.
"""

from __future__ import annotations

from datetime import datetime as _datetime
from typing import TYPE_CHECKING, Any, ClassVar

from ._value import Value
from .clock import utcnow

if TYPE_CHECKING:
    from .activity import ActivityExecution, ActivityResult
    from .decision import Decision, Timer
    from .process import ProcessResult
    from .signal import Signal


class Event(Value):
    type: ClassVar[str] = ""

    def __init__(self, datetime: _datetime | None = None) -> None:
        self.datetime = datetime or utcnow()


class ProcessStartedEvent(Event):
    type = "process_started"


class DecisionStartedEvent(Event):
    """A decider took the decision task; ``identity`` names the worker, as SWF records
    it, and like the time takes no part in equality."""

    type = "decision_started"

    def __init__(self, datetime: _datetime | None = None, identity: str | None = None) -> None:
        super().__init__(datetime)
        self.identity = identity


class DecisionEvent(Event):
    type = "decision"
    _fields = ("decision",)

    def __init__(self, decision: Decision, datetime: _datetime | None = None) -> None:
        super().__init__(datetime)
        self.decision = decision


class DecisionFailedEvent(Event):
    """The decider raised or returned something that is not a decision; it is re-offered."""

    type = "decision_failed"
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None, datetime: _datetime | None = None):
        super().__init__(datetime)
        self.reason = reason
        self.details = details


class DecisionTimedOutEvent(Event):
    """The decider held the task past ``decision_timeout``; it is re-offered."""

    type = "decision_timed_out"


class DecisionRejectedEvent(Event):
    """One decision could not be applied (unknown activity, timer or process); the rest were."""

    type = "decision_rejected"
    _fields = ("decision", "reason")

    def __init__(self, decision: Decision, reason: str, datetime: _datetime | None = None):
        super().__init__(datetime)
        self.decision = decision
        self.reason = reason


class ActivityStartedEvent(Event):
    type = "activity_started"
    _fields = ("activity_execution",)

    def __init__(
        self,
        activity_execution: ActivityExecution,
        datetime: _datetime | None = None,
        identity: str | None = None,
    ) -> None:
        super().__init__(datetime)
        self.activity_execution = activity_execution
        self.identity = identity


class ActivityEvent(Event):
    type = "activity"
    _fields = ("activity_execution", "result")

    def __init__(
        self,
        activity_execution: ActivityExecution,
        result: ActivityResult,
        datetime: _datetime | None = None,
    ) -> None:
        super().__init__(datetime)
        self.activity_execution = activity_execution
        self.result = result


class SignalEvent(Event):
    type = "signal"
    _fields = ("signal",)

    def __init__(self, signal: Signal, datetime: _datetime | None = None) -> None:
        super().__init__(datetime)
        self.signal = signal


class TimerEvent(Event):
    type = "timer"
    _fields = ("timer",)

    def __init__(self, timer: Timer, datetime: _datetime | None = None) -> None:
        super().__init__(datetime)
        self.timer = timer


class ChildProcessEvent(Event):
    type = "child_process"
    _fields = ("process_id", "result", "workflow", "tags")

    def __init__(
        self,
        process_id: str,
        result: ProcessResult,
        workflow: str | None = None,
        tags: list[str] | None = None,
        datetime: _datetime | None = None,
    ) -> None:
        super().__init__(datetime)
        self.process_id = process_id
        self.result = result
        self.workflow = workflow
        self.tags = tags


class CancelRequestedEvent(Event):
    """Someone asked this process to cancel; the decider decides whether and how."""

    type = "cancel_requested"
    _fields = ("details",)

    def __init__(self, details: Any = None, datetime: _datetime | None = None) -> None:
        super().__init__(datetime)
        self.details = details


class ProcessTimedOutEvent(Event):
    type = "process_timed_out"


class ProcessTerminatedEvent(Event):
    type = "process_terminated"
    _fields = ("reason", "details")

    def __init__(self, reason: Any = None, details: Any = None, datetime: _datetime | None = None):
        super().__init__(datetime)
        self.reason = reason
        self.details = details


class ActivityAttemptFailed(Event):
    """Attempt number ``attempt`` of a retried activity failed or timed out with
    ``result``; another attempt follows, so the decider is not asked to handle it."""

    type = "activity_attempt_failed"
    _fields = ("activity_execution", "attempt", "result")

    def __init__(
        self,
        activity_execution: ActivityExecution,
        attempt: int,
        result: ActivityResult,
        datetime: _datetime | None = None,
    ) -> None:
        super().__init__(datetime)
        self.activity_execution = activity_execution
        self.attempt = attempt
        self.result = result


class ActivityRetryScheduled(Event):
    """Attempt number ``attempt`` of an activity will be scheduled after ``delay`` seconds."""

    type = "activity_retry_scheduled"
    _fields = ("activity_execution", "attempt", "delay")

    def __init__(
        self,
        activity_execution: ActivityExecution,
        attempt: int,
        delay: float,
        datetime: _datetime | None = None,
    ) -> None:
        super().__init__(datetime)
        self.activity_execution = activity_execution
        self.attempt = attempt
        self.delay = delay


class ActivityAttemptScheduled(Event):
    """The wait is over: attempt number ``attempt`` of an activity was scheduled."""

    type = "activity_attempt_scheduled"
    _fields = ("activity_execution", "attempt")

    def __init__(
        self, activity_execution: ActivityExecution, attempt: int, datetime: _datetime | None = None
    ) -> None:
        super().__init__(datetime)
        self.activity_execution = activity_execution
        self.attempt = attempt
