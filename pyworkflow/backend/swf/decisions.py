"""Our decisions as SWF decisions.

A Timer's data and id travel in the SWF timer's ``control``, so the fired timer
comes back as the Timer the decider asked for. SWF's own decisions are the only
record of what was decided: the history decoder reads them back as DecisionEvents.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any
from uuid import uuid4

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
from ...exceptions import InvalidDecisionError
from . import limits

Versions = Callable[[str], str]


def encode_all(
    decisions: Sequence[Decision], activity_version: Versions, workflow_version: Versions
) -> list[dict[str, Any]]:
    """More than SWF's 100 decisions per response is refused, not split: a split
    would let new events in between the halves of what the decider meant as one."""
    if len(decisions) > limits.DECISIONS_PER_RESPONSE:
        raise InvalidDecisionError(
            f"{len(decisions)} decisions in one response; SWF takes at most "
            f"{limits.DECISIONS_PER_RESPONSE}"
        )
    return [encode(decision, activity_version, workflow_version) for decision in decisions]


def timer_control(timer: Timer) -> str:
    return limits.payload({"data": timer.data, "id": timer.id}, "Timer.data")


def encode(
    decision: Decision, activity_version: Versions, workflow_version: Versions
) -> dict[str, Any]:
    if isinstance(decision, ScheduleActivity):
        attributes: dict[str, Any] = {
            "activityType": {
                "name": limits.name(decision.activity, "ScheduleActivity.activity"),
                "version": activity_version(decision.activity),
            },
            "activityId": limits.name(decision.id, "ScheduleActivity.id"),
            "input": limits.payload(decision.input, "ScheduleActivity.input"),
        }
        if decision.category:
            attributes["taskList"] = {
                "name": limits.name(decision.category, "ScheduleActivity.category")
            }
        if decision.retry is not None:
            # SWF has no retry field: the per-call policy travels in ``control`` and
            # comes back with ActivityTaskScheduled, so the history keeps it.
            attributes["control"] = limits.payload(
                {"retry": decision.retry}, "ScheduleActivity.retry"
            )
        return _decision("ScheduleActivityTask", attributes)
    if isinstance(decision, CancelActivity):
        return _decision(
            "RequestCancelActivityTask",
            {"activityId": limits.name(decision.id, "CancelActivity.id")},
        )
    if isinstance(decision, CompleteProcess):
        return _decision(
            "CompleteWorkflowExecution",
            {"result": limits.payload(decision.result, "CompleteProcess.result")},
        )
    if isinstance(decision, FailProcess):
        return _decision(
            "FailWorkflowExecution",
            {
                "reason": limits.failure_reason(decision.reason),
                "details": limits.failure_details(decision.details),
            },
        )
    if isinstance(decision, CancelProcess):
        return _decision(
            "CancelWorkflowExecution",
            {"details": limits.payload(decision.details, "CancelProcess.details")},
        )
    if isinstance(decision, ContinueAsNew):
        attributes = {"input": limits.payload(decision.input, "ContinueAsNew.input")}
        if decision.tags is not None:
            attributes["tagList"] = [
                limits.name(tag, "ContinueAsNew.tags") for tag in decision.tags
            ]
        return _decision("ContinueAsNewWorkflowExecution", attributes)
    if isinstance(decision, StartChildProcess):
        child = decision.process
        workflow = str(child.workflow)
        attributes = {
            "workflowType": {
                "name": limits.name(workflow, "StartChildProcess.workflow"),
                "version": workflow_version(workflow),
            },
            "workflowId": limits.name(child.id, "StartChildProcess.id"),
            "input": limits.payload(child.input, "StartChildProcess.input"),
            "childPolicy": decision.child_policy,
        }
        if child.tags:
            attributes["tagList"] = [
                limits.name(tag, "StartChildProcess.tags") for tag in child.tags
            ]
        return _decision("StartChildWorkflowExecution", attributes)
    if isinstance(decision, Timer):
        return _decision(
            "StartTimer",
            {
                "timerId": limits.name(decision.id or str(uuid4()), "Timer.id"),
                "startToFireTimeout": str(max(0, math.ceil(decision.delay))),
                "control": timer_control(decision),
            },
        )
    if isinstance(decision, CancelTimer):
        return _decision("CancelTimer", {"timerId": limits.name(decision.id, "CancelTimer.id")})
    if isinstance(decision, RecordMarker):
        return _decision(
            "RecordMarker",
            {
                "markerName": limits.name(decision.name, "RecordMarker.name"),
                "details": limits.payload(decision.details, "RecordMarker.details"),
            },
        )
    if isinstance(decision, SignalProcess):
        return _decision(
            "SignalExternalWorkflowExecution",
            {
                "workflowId": limits.name(decision.process_id, "SignalProcess.process_id"),
                "signalName": limits.name(decision.name, "SignalProcess.name"),
                "input": limits.payload(decision.data, "SignalProcess.data"),
            },
        )
    if isinstance(decision, RequestCancelProcess):
        return _decision(
            "RequestCancelExternalWorkflowExecution",
            {
                "workflowId": limits.name(decision.process_id, "RequestCancelProcess.process_id"),
                "control": limits.payload(decision.details, "RequestCancelProcess.details"),
            },
        )
    raise InvalidDecisionError(f"{type(decision).__name__} has no SWF decision")


def _decision(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "DecisionAttributes"
    return {"decisionType": kind, key: attributes}
