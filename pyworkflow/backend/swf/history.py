"""SWF's history read back as our events, with the same types and values the
engine records, so one workflow class behaves the same on every backend.

SWF records a decision as the event it caused (ActivityTaskScheduled,
TimerStarted, WorkflowExecutionCompleted...): each becomes the DecisionEvent of
the decision that asked for it, and each ``*Failed`` answer to a decision a
DecisionRejectedEvent. Events that only SWF's own bookkeeping needs
(DecisionTaskScheduled, DecisionTaskCompleted, *Initiated acknowledgements)
have no counterpart and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ...activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityTimedOut,
)
from ...decision import (
    CancelActivity,
    CancelProcess,
    CancelTimer,
    CompleteProcess,
    ContinueAsNew,
    Decision,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from ...engine import UNHANDLED_DECISION
from ...events import (
    ActivityEvent,
    ActivityStartedEvent,
    CancelRequestedEvent,
    ChildProcessEvent,
    DecisionEvent,
    DecisionFailedEvent,
    DecisionRejectedEvent,
    DecisionStartedEvent,
    DecisionTimedOutEvent,
    Event,
    ProcessStartedEvent,
    ProcessTerminatedEvent,
    ProcessTimedOutEvent,
    SignalEvent,
    TimerEvent,
)
from ...process import (
    Process,
    ProcessCanceled,
    ProcessCompleted,
    ProcessContinuedAsNew,
    ProcessFailed,
    ProcessResult,
    ProcessStatus,
    ProcessTerminated,
    ProcessTimedOut,
)
from ...signal import Signal
from .limits import decode

# Names this backend writes into SWF for what SWF has no call of its own.
DECISION_FAILED_MARKER = "pyworkflow.decision_failed"
RETRY_TIMER_PREFIX = "pyworkflow.retry-decision-"
CANCEL_REASON = "pyworkflow.cancel"
TIMED_OUT_REASON = "pyworkflow.timedout"

# SWF's timeout types, named as the Activity attributes that set them.
TIMEOUT_TYPES = {
    "SCHEDULE_TO_START": "scheduled_timeout",
    "START_TO_CLOSE": "execution_timeout",
    "HEARTBEAT": "heartbeat_timeout",
    "SCHEDULE_TO_CLOSE": "execution_timeout",
}

CLOSE_STATUSES = {
    "COMPLETED": ProcessStatus.COMPLETED,
    "FAILED": ProcessStatus.FAILED,
    "CANCELED": ProcessStatus.CANCELED,
    "TERMINATED": ProcessStatus.TERMINATED,
    "CONTINUED_AS_NEW": ProcessStatus.CONTINUED_AS_NEW,
    "TIMED_OUT": ProcessStatus.TIMED_OUT,
}


@dataclass
class Decoded:
    """A run as its history tells it; ``events`` pairs each event with its SWF id."""

    process_id: str
    run_id: str
    workflow: str | None = None
    input: Any = None
    tags: list[str] = field(default_factory=list)
    parent: str | None = None
    events: list[tuple[int, Event]] = field(default_factory=list)
    result: ProcessResult | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def status(self) -> str:
        return ProcessStatus.OPEN if self.result is None else self.result.status

    def process(self) -> Process:
        return Process(
            workflow=self.workflow,
            id=self.process_id,
            input=self.input,
            tags=self.tags,
            history=[event for _, event in self.events],
            parent=self.parent,
            status=self.status,
            result=self.result,
            started_at=self.started_at,
            closed_at=self.closed_at,
        )


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return (
            value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        )
    return datetime.fromtimestamp(float(value), timezone.utc)


def _attributes(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    return event.get(kind[0].lower() + kind[1:] + "EventAttributes", {})


class _Decoder:
    def __init__(self, decoded: Decoded) -> None:
        self.run = decoded
        self.event_id = 0
        self.scheduled: dict[int, ActivityExecution] = {}
        self.timers: dict[str, Timer] = {}
        self.children: dict[str, tuple[str, list[str]]] = {}

    def add(self, event: dict[str, Any]) -> None:
        kind = event["eventType"]
        attributes = _attributes(event)
        when = _time(event["eventTimestamp"])
        handler = getattr(self, "on_" + kind, None)
        if handler is None:
            return
        self.event_id = int(event["eventId"])
        produced = handler(attributes, when)
        if produced is not None:
            self.run.events.append((self.event_id, produced))

    # -- the run itself -------------------------------------------------------------

    def on_WorkflowExecutionStarted(self, a: dict[str, Any], when: datetime) -> Event:
        self.run.workflow = a["workflowType"]["name"]
        self.run.input = decode(a.get("input"))
        self.run.tags = list(a.get("tagList") or [])
        parent = a.get("parentWorkflowExecution")
        self.run.parent = parent["workflowId"] if parent else None
        self.run.started_at = when
        return ProcessStartedEvent(when)

    def _closed(self, result: ProcessResult, when: datetime, decision: Decision) -> Event:
        self.run.result = result
        self.run.closed_at = when
        return DecisionEvent(decision, when)

    def on_WorkflowExecutionCompleted(self, a: dict[str, Any], when: datetime) -> Event:
        result = decode(a.get("result"))
        return self._closed(ProcessCompleted(result), when, CompleteProcess(result))

    def on_WorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        reason, details = a.get("reason"), decode(a.get("details"))
        return self._closed(ProcessFailed(reason, details), when, FailProcess(reason, details))

    def on_WorkflowExecutionCanceled(self, a: dict[str, Any], when: datetime) -> Event:
        details = decode(a.get("details"))
        return self._closed(ProcessCanceled(details), when, CancelProcess(details))

    def on_WorkflowExecutionContinuedAsNew(self, a: dict[str, Any], when: datetime) -> Event:
        payload = decode(a.get("input"))
        tags = a.get("tagList")
        return self._closed(ProcessContinuedAsNew(payload), when, ContinueAsNew(payload, tags=tags))

    def on_WorkflowExecutionTimedOut(self, a: dict[str, Any], when: datetime) -> Event:
        self.run.result = ProcessTimedOut()
        self.run.closed_at = when
        return ProcessTimedOutEvent(when)

    def on_WorkflowExecutionTerminated(self, a: dict[str, Any], when: datetime) -> Event:
        details = decode(a.get("details"))
        self.run.closed_at = when
        if a.get("reason") == CANCEL_REASON:
            # cancel_process closes at once, which SWF can only do by terminating.
            self.run.result = ProcessCanceled(details)
            return DecisionEvent(CancelProcess(details), when)
        self.run.result = ProcessTerminated(a.get("reason"), details)
        return ProcessTerminatedEvent(a.get("reason"), details, when)

    def on_WorkflowExecutionSignaled(self, a: dict[str, Any], when: datetime) -> Event:
        return SignalEvent(Signal(a["signalName"], decode(a.get("input"))), when)

    def on_WorkflowExecutionCancelRequested(self, a: dict[str, Any], when: datetime) -> Event:
        # SWF carries no details with a cancel request.
        return CancelRequestedEvent(None, when)

    # -- decisions --------------------------------------------------------------------

    def on_DecisionTaskStarted(self, a: dict[str, Any], when: datetime) -> Event:
        return DecisionStartedEvent(when, identity=a.get("identity"))

    def on_DecisionTaskTimedOut(self, a: dict[str, Any], when: datetime) -> Event:
        return DecisionTimedOutEvent(when)

    def _rejected(self, decision: Decision, a: dict[str, Any], when: datetime) -> Event:
        cause = str(a.get("cause", ""))
        # Worded as the engine words it, so a decider reads one reason everywhere.
        reason = UNHANDLED_DECISION if cause == "UNHANDLED_DECISION" else cause
        return DecisionRejectedEvent(decision, reason, when)

    def on_ActivityTaskScheduled(self, a: dict[str, Any], when: datetime) -> Event:
        execution = ActivityExecution(
            a["activityType"]["name"], a["activityId"], decode(a.get("input"))
        )
        self.scheduled[self.event_id] = execution
        control = decode(a.get("control"))
        retry = control.get("retry") if isinstance(control, dict) else None
        return DecisionEvent(
            ScheduleActivity(execution.activity, execution.id, None, execution.input, retry),
            when,
        )

    def on_ScheduleActivityTaskFailed(self, a: dict[str, Any], when: datetime) -> Event:
        activity = a["activityType"]["name"]
        decision = ScheduleActivity(activity, a["activityId"])
        # SWF gives a cause only; name the activity as the other backends' reasons do.
        reason = f"{a.get('cause', '')}: activity {activity!r} (id {a['activityId']!r})"
        return DecisionRejectedEvent(decision, reason, when)

    def on_ActivityTaskCancelRequested(self, a: dict[str, Any], when: datetime) -> Event:
        return DecisionEvent(CancelActivity(a["activityId"]), when)

    def on_RequestCancelActivityTaskFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(CancelActivity(a["activityId"]), a, when)

    def on_TimerStarted(self, a: dict[str, Any], when: datetime) -> Event | None:
        if a["timerId"].startswith(RETRY_TIMER_PREFIX):
            return None
        control = decode(a.get("control"))
        if isinstance(control, dict) and "data" in control:
            timer = Timer(float(a["startToFireTimeout"]), control["data"], control.get("id"))
        else:
            timer = Timer(float(a["startToFireTimeout"]), control, a["timerId"])
        self.timers[a["timerId"]] = timer
        return DecisionEvent(timer, when)

    def on_StartTimerFailed(self, a: dict[str, Any], when: datetime) -> Event | None:
        if a["timerId"].startswith(RETRY_TIMER_PREFIX):
            return None
        return self._rejected(Timer(0, id=a["timerId"]), a, when)

    def on_TimerFired(self, a: dict[str, Any], when: datetime) -> Event | None:
        timer = self.timers.pop(a["timerId"], None)
        return None if timer is None else TimerEvent(timer, when)

    def on_TimerCanceled(self, a: dict[str, Any], when: datetime) -> Event:
        timer = self.timers.pop(a["timerId"], None)
        return DecisionEvent(CancelTimer(timer.id if timer and timer.id else a["timerId"]), when)

    def on_TimerCancelled(self, a: dict[str, Any], when: datetime) -> Event | None:
        """moto's spelling of TimerCanceled. Its attributes travel under a key the SWF
        API model does not know, so botocore drops them: with no timer id the event
        says nothing we can map, and must not stop the rest of the history."""
        return self.on_TimerCanceled(a, when) if "timerId" in a else None

    def on_CancelTimerFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(CancelTimer(a["timerId"]), a, when)

    def on_MarkerRecorded(self, a: dict[str, Any], when: datetime) -> Event:
        details = decode(a.get("details"))
        if a["markerName"] == DECISION_FAILED_MARKER and isinstance(details, dict):
            return DecisionFailedEvent(details.get("reason"), details.get("details"), when)
        return DecisionEvent(RecordMarker(a["markerName"], details), when)

    def on_RecordMarkerFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(RecordMarker(a["markerName"]), a, when)

    def on_StartChildWorkflowExecutionInitiated(self, a: dict[str, Any], when: datetime) -> Event:
        workflow = a["workflowType"]["name"]
        tags = list(a.get("tagList") or [])
        self.children[a["workflowId"]] = (workflow, tags)
        child = Process(
            workflow=workflow, id=a["workflowId"], input=decode(a.get("input")), tags=tags
        )
        return DecisionEvent(StartChildProcess(child, a.get("childPolicy", "ABANDON")), when)

    def on_StartChildWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        child = Process(workflow=a["workflowType"]["name"], id=a["workflowId"])
        return self._rejected(StartChildProcess(child), a, when)

    def on_SignalExternalWorkflowExecutionInitiated(
        self, a: dict[str, Any], when: datetime
    ) -> Event:
        decision = SignalProcess(a["workflowId"], a["signalName"], decode(a.get("input")))
        return DecisionEvent(decision, when)

    def on_SignalExternalWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(SignalProcess(a["workflowId"], ""), a, when)

    def on_RequestCancelExternalWorkflowExecutionInitiated(
        self, a: dict[str, Any], when: datetime
    ) -> Event:
        return DecisionEvent(RequestCancelProcess(a["workflowId"], decode(a.get("control"))), when)

    def on_RequestCancelExternalWorkflowExecutionFailed(
        self, a: dict[str, Any], when: datetime
    ) -> Event:
        return self._rejected(RequestCancelProcess(a["workflowId"]), a, when)

    def on_CompleteWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(CompleteProcess(), a, when)

    def on_FailWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(FailProcess(), a, when)

    def on_CancelWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(CancelProcess(), a, when)

    def on_ContinueAsNewWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._rejected(ContinueAsNew(), a, when)

    # -- activities -------------------------------------------------------------------

    def _execution(self, a: dict[str, Any]) -> ActivityExecution:
        return self.scheduled[int(a["scheduledEventId"])]

    def on_ActivityTaskStarted(self, a: dict[str, Any], when: datetime) -> Event:
        return ActivityStartedEvent(self._execution(a), when, identity=a.get("identity"))

    def on_ActivityTaskCompleted(self, a: dict[str, Any], when: datetime) -> Event:
        execution = self._execution(a)
        return ActivityEvent(execution, ActivityCompleted(decode(a.get("result"))), when)

    def on_ActivityTaskFailed(self, a: dict[str, Any], when: datetime) -> Event:
        execution = self._execution(a)
        details = decode(a.get("details"))
        if a.get("reason") == TIMED_OUT_REASON:
            return ActivityEvent(execution, ActivityTimedOut(details), when)
        return ActivityEvent(execution, ActivityFailed(a.get("reason"), details), when)

    def on_ActivityTaskTimedOut(self, a: dict[str, Any], when: datetime) -> Event:
        execution = self._execution(a)
        kind = TIMEOUT_TYPES.get(a.get("timeoutType", ""), a.get("timeoutType"))
        return ActivityEvent(execution, ActivityTimedOut(kind), when)

    def on_ActivityTaskCanceled(self, a: dict[str, Any], when: datetime) -> Event:
        execution = self._execution(a)
        return ActivityEvent(execution, ActivityCanceled(decode(a.get("details"))), when)

    # -- children ---------------------------------------------------------------------

    def _child(self, a: dict[str, Any], result: ProcessResult, when: datetime) -> Event:
        child_id = a["workflowExecution"]["workflowId"]
        workflow, tags = self.children.get(child_id, (a["workflowType"]["name"], []))
        return ChildProcessEvent(child_id, result, workflow, list(tags), when)

    def on_ChildWorkflowExecutionCompleted(self, a: dict[str, Any], when: datetime) -> Event:
        return self._child(a, ProcessCompleted(decode(a.get("result"))), when)

    def on_ChildWorkflowExecutionFailed(self, a: dict[str, Any], when: datetime) -> Event:
        return self._child(a, ProcessFailed(a.get("reason"), decode(a.get("details"))), when)

    def on_ChildWorkflowExecutionCanceled(self, a: dict[str, Any], when: datetime) -> Event:
        return self._child(a, ProcessCanceled(decode(a.get("details"))), when)

    def on_ChildWorkflowExecutionTimedOut(self, a: dict[str, Any], when: datetime) -> Event:
        return self._child(a, ProcessTimedOut(), when)

    def on_ChildWorkflowExecutionTerminated(self, a: dict[str, Any], when: datetime) -> Event:
        return self._child(a, ProcessTerminated(), when)


def decode_history(process_id: str, run_id: str, events: Iterable[dict[str, Any]]) -> Decoded:
    """Decode every page's events, in order; unknown event types are skipped."""
    decoded = Decoded(process_id, run_id)
    decoder = _Decoder(decoded)
    for event in events:
        decoder.add(event)
    return decoded
