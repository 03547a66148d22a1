"""What moto's SWF lacks, checked against the SWF API model itself.

botocore's Stubber validates every request against the service model, so each
call here is one real SWF would accept; responses are shaped as the SWF API
reference documents them, several history pages included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from pyworkflow.activity import ActivityAborted, ActivityExecution, ActivityTimedOut
from pyworkflow.backend.amazonswf import AmazonSWFBackend
from pyworkflow.backend.swf.limits import PAYLOAD, TRUNCATED, SWFLimitError
from pyworkflow.decision import (
    CancelActivity,
    CancelProcess,
    CancelTimer,
    CompleteProcess,
    ContinueAsNew,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from pyworkflow.events import (
    ActivityEvent,
    CancelRequestedEvent,
    ChildProcessEvent,
    DecisionEvent,
    DecisionRejectedEvent,
    DecisionTimedOutEvent,
    TimerEvent,
)
from pyworkflow.exceptions import InvalidDecisionError
from pyworkflow.process import Process, ProcessFailed, ProcessTerminated
from pyworkflow.retry import RetryPolicy
from pyworkflow.task import ActivityTask, DecisionTask

DOMAIN = "orders"
TOKEN = "t" * 40


@pytest.fixture
def stubbed() -> Iterator[tuple[AmazonSWFBackend, Stubber]]:
    client = boto3.client(
        "swf", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    with Stubber(client) as stubber:
        yield AmazonSWFBackend(domain=DOMAIN, client=client), stubber
        stubber.assert_no_pending_responses()


def capture(backend: AmazonSWFBackend, operation: str) -> list[dict[str, Any]]:
    """The parameters of each ``operation`` call, as the Stubber validated them."""
    sent: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    backend.client.meta.events.register(f"provide-client-params.swf.{operation}", keep)
    return sent


def decision_task() -> DecisionTask:
    return DecisionTask(Process(workflow="Foo", id="p1"), context={"token": TOKEN, "run_id": "r"})


def test_every_decision_is_a_valid_swf_decision(stubbed) -> None:
    backend, stubber = stubbed
    child = Process(workflow="Child", id="c1", input=0, tags=["t"])
    decisions = [
        ScheduleActivity(
            "Multiplication", id="a1", category="fast", input=[], retry=RetryPolicy(max_attempts=2)
        ),
        CancelActivity("a1"),
        StartChildProcess(child, child_policy="TERMINATE"),
        Timer(1.5, data={"k": 1}, id="tm"),
        CancelTimer("tm"),
        RecordMarker("m", details=""),
        SignalProcess("p2", "go", data=0),
        RequestCancelProcess("p3"),
    ]
    # a closing decision must come last, so each is sent after the others in turn
    closers = [
        ContinueAsNew(input=[1], tags=["x"]),
        CompleteProcess(0),
        FailProcess("why", "details"),
        CancelProcess("bye"),
    ]
    sent = capture(backend, "RespondDecisionTaskCompleted")
    for closer in closers:
        stubber.add_response(
            "respond_decision_task_completed", {}, {"taskToken": TOKEN, "decisions": ANY}
        )
        backend.complete_decision_task(decision_task(), [*decisions, closer])
    opening = [
        "ScheduleActivityTask",
        "RequestCancelActivityTask",
        "StartChildWorkflowExecution",
        "StartTimer",
        "CancelTimer",
        "RecordMarker",
        "SignalExternalWorkflowExecution",
        "RequestCancelExternalWorkflowExecution",
    ]
    assert [[d["decisionType"] for d in call["decisions"]] for call in sent] == [
        [*opening, closing]
        for closing in (
            "ContinueAsNewWorkflowExecution",
            "CompleteWorkflowExecution",
            "FailWorkflowExecution",
            "CancelWorkflowExecution",
        )
    ]
    control = sent[0]["decisions"][0]["scheduleActivityTaskDecisionAttributes"]["control"]
    assert '"max_attempts":2' in control


def test_encoded_attributes(stubbed) -> None:
    backend, stubber = stubbed
    from pyworkflow.backend.swf.decisions import encode

    def version(name: str) -> str:
        return "1.0"

    activity = encode(ScheduleActivity("M", id="a1", input=0), version, version)
    assert activity["scheduleActivityTaskDecisionAttributes"]["input"] == "0"
    child = encode(
        StartChildProcess(Process(workflow="C", id="c1"), child_policy="REQUEST_CANCEL"),
        version,
        version,
    )
    assert child["startChildWorkflowExecutionDecisionAttributes"]["childPolicy"] == (
        "REQUEST_CANCEL"
    )
    timer = encode(Timer(1.2, id="t"), version, version)["startTimerDecisionAttributes"]
    assert timer["startToFireTimeout"] == "2"


def test_more_than_100_decisions_is_a_clear_error(stubbed) -> None:
    backend, _ = stubbed
    with pytest.raises(InvalidDecisionError, match="101 decisions.*at most 100"):
        backend.complete_decision_task(decision_task(), [RecordMarker("m")] * 101)


def test_an_input_over_the_limit_names_the_field(stubbed) -> None:
    backend, _ = stubbed
    with pytest.raises(SWFLimitError, match="ScheduleActivity.input"):
        backend.complete_decision_task(
            decision_task(), [ScheduleActivity("M", id="a", input="x" * PAYLOAD)]
        )


def test_a_canceled_activity_answers_canceled(stubbed) -> None:
    backend, stubber = stubbed
    task = ActivityTask(ActivityExecution("M", "a1"), "p1", {"token": TOKEN})
    stubber.add_response(
        "respond_activity_task_canceled", {}, {"taskToken": TOKEN, "details": '"stop"'}
    )
    backend.complete_activity_task(task, ActivityAborted("stop"))


def test_a_long_failure_is_truncated_not_lost(stubbed) -> None:
    from pyworkflow.activity import ActivityFailed

    backend, stubber = stubbed
    task = ActivityTask(ActivityExecution("M", "a1"), "p1", {"token": TOKEN})
    stubber.add_response(
        "respond_activity_task_failed", {}, {"taskToken": TOKEN, "reason": ANY, "details": ANY}
    )
    sent = capture(backend, "RespondActivityTaskFailed")
    backend.complete_activity_task(task, ActivityFailed("r" * 300, "trace" * 10000))
    [request] = sent
    assert len(request["reason"]) == 256 and request["reason"].endswith(TRUNCATED)
    assert len(request["details"]) <= PAYLOAD and TRUNCATED in request["details"]


def test_heartbeat_reports_cancel_requested(stubbed) -> None:
    backend, stubber = stubbed
    task = ActivityTask(ActivityExecution("M", "a1"), "p1", {"token": TOKEN})
    stubber.add_response(
        "record_activity_task_heartbeat", {"cancelRequested": True}, {"taskToken": TOKEN}
    )
    assert backend.heartbeat_activity_task(task) is True


def test_registration_accepts_an_existing_type_and_raises_anything_else(stubbed) -> None:
    backend, stubber = stubbed
    stubber.add_client_error("register_activity_type", "TypeAlreadyExistsFault")
    backend.register_activity("M")
    stubber.add_client_error("register_workflow_type", "LimitExceededFault")
    with pytest.raises(Exception, match="LimitExceededFault"):
        backend.register_workflow("Foo")


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def event(event_id: int, kind: str, **attributes: Any) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:] + "EventAttributes"
    return {
        "eventId": event_id,
        "eventType": kind,
        "eventTimestamp": T0 + timedelta(seconds=event_id),
        key: attributes,
    }


def history_pages() -> list[list[dict[str, Any]]]:
    foo = {"name": "Foo", "version": "1.0"}
    child = {"name": "Child", "version": "1.0"}
    return [
        [
            event(
                1,
                "WorkflowExecutionStarted",
                workflowType=foo,
                input="0",
                tagList=["t"],
                childPolicy="ABANDON",
                taskList={"name": "default"},
            ),
            event(2, "DecisionTaskScheduled", taskList={"name": "default"}),
            event(3, "DecisionTaskStarted", scheduledEventId=2),
            event(
                4,
                "DecisionTaskTimedOut",
                scheduledEventId=2,
                startedEventId=3,
                timeoutType="START_TO_CLOSE",
            ),
        ],
        [
            event(
                5,
                "ActivityTaskScheduled",
                activityType={"name": "M", "version": "1.0"},
                activityId="a1",
                input="[]",
                taskList={"name": "default"},
                decisionTaskCompletedEventId=4,
            ),
            event(6, "ActivityTaskStarted", scheduledEventId=5),
            event(
                7,
                "ActivityTaskTimedOut",
                timeoutType="HEARTBEAT",
                scheduledEventId=5,
                startedEventId=6,
            ),
            event(
                8,
                "StartTimerFailed",
                timerId="tm",
                cause="TIMER_ID_ALREADY_IN_USE",
                decisionTaskCompletedEventId=4,
            ),
            event(
                9,
                "StartChildWorkflowExecutionInitiated",
                workflowId="c1",
                workflowType=child,
                childPolicy="TERMINATE",
                input="1",
                tagList=["k"],
                taskList={"name": "default"},
                decisionTaskCompletedEventId=4,
            ),
        ],
        [
            event(
                10,
                "ChildWorkflowExecutionFailed",
                workflowExecution={"workflowId": "c1", "runId": "cr"},
                workflowType=child,
                reason="bad",
                details='"tb"',
                initiatedEventId=9,
                startedEventId=9,
            ),
            event(
                11,
                "ChildWorkflowExecutionTerminated",
                workflowExecution={"workflowId": "c2", "runId": "cr2"},
                workflowType=child,
                initiatedEventId=9,
                startedEventId=9,
            ),
            event(
                12,
                "SignalExternalWorkflowExecutionFailed",
                workflowId="p9",
                cause="UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
                initiatedEventId=9,
                decisionTaskCompletedEventId=4,
            ),
            event(13, "WorkflowExecutionCancelRequested"),
        ],
    ]


def test_history_across_pages_maps_failures_back(stubbed) -> None:
    backend, stubber = stubbed
    execution = {"workflowId": "p1", "runId": "r1"}
    stubber.add_response(
        "list_open_workflow_executions",
        {
            "executionInfos": [
                {
                    "execution": execution,
                    "workflowType": {"name": "Foo", "version": "1.0"},
                    "startTimestamp": T0,
                    "executionStatus": "OPEN",
                }
            ]
        },
        {"domain": DOMAIN, "startTimeFilter": ANY, "executionFilter": {"workflowId": "p1"}},
    )
    pages = history_pages()
    for number, page in enumerate(pages):
        response: dict[str, Any] = {"events": page}
        if number + 1 < len(pages):
            response["nextPageToken"] = f"page-{number + 1}"
        expected: dict[str, Any] = {"domain": DOMAIN, "execution": execution}
        if number:
            expected["nextPageToken"] = f"page-{number}"
        stubber.add_response("get_workflow_execution_history", response, expected)

    process = backend.process_by_id("p1")

    assert process.input == 0
    assert process.tags == ["t"]
    assert process.is_open
    history = process.history
    assert [e.type for e in history] == [
        "process_started",
        "decision_started",
        "decision_timed_out",
        "decision",
        "activity_started",
        "activity",
        "decision_rejected",
        "decision",
        "child_process",
        "child_process",
        "decision_rejected",
        "cancel_requested",
    ]
    assert history[2] == DecisionTimedOutEvent()
    assert history[3] == DecisionEvent(ScheduleActivity("M", id="a1", input=[]))
    assert history[5] == ActivityEvent(
        ActivityExecution("M", "a1", []), ActivityTimedOut("heartbeat_timeout")
    )
    assert isinstance(history[6], DecisionRejectedEvent)
    assert history[6].reason == "TIMER_ID_ALREADY_IN_USE"
    assert history[8] == ChildProcessEvent("c1", ProcessFailed("bad", "tb"), "Child", ["k"])
    assert history[9] == ChildProcessEvent("c2", ProcessTerminated(), "Child", [])
    assert history[11] == CancelRequestedEvent()


def test_failure_details_keep_a_marker_when_cut() -> None:
    from pyworkflow.backend.swf.limits import decode, failure_details

    text = failure_details("x" * (PAYLOAD * 2))
    assert len(text) <= PAYLOAD
    assert decode(text).endswith(TRUNCATED)


def test_a_canceled_timer_reads_back_and_motos_spelling_never_breaks_a_history() -> None:
    """SWF's TimerCanceled is the CancelTimer decision; moto's TimerCancelled reaches
    us without attributes (botocore drops a key the SWF model lacks), so it maps to
    nothing, and the events after it are still read."""
    from pyworkflow.backend.swf.history import decode_history

    started = {"decisionTaskCompletedEventId": 1}
    events = [
        event(1, "WorkflowExecutionStarted", workflowType={"name": "Foo", "version": "1.0"}),
        event(2, "TimerStarted", timerId="a", startToFireTimeout="5", **started),
        event(3, "TimerStarted", timerId="b", startToFireTimeout="5", **started),
        event(4, "TimerStarted", timerId="c", startToFireTimeout="1", **started),
        event(5, "TimerCanceled", timerId="a", startedEventId=2, **started),
        {"eventId": 6, "eventType": "TimerCancelled", "eventTimestamp": T0},
        event(7, "TimerFired", timerId="c", startedEventId=4),
    ]
    history = decode_history("p1", "r1", iter(events)).process().history
    assert [e.type for e in history] == [
        "process_started",
        "decision",
        "decision",
        "decision",
        "decision",
        "timer",
    ]
    assert history[4] == DecisionEvent(CancelTimer("a"))
    assert history[5] == TimerEvent(Timer(1, id="c"))


def test_a_close_refused_for_unhandled_events_reads_as_the_engine_words_it() -> None:
    """SWF refuses a close made while events arrived with cause UNHANDLED_DECISION;
    the decider reads the reason every backend records for it."""
    from pyworkflow.backend.swf.history import decode_history
    from pyworkflow.decision import CompleteProcess
    from pyworkflow.engine import UNHANDLED_DECISION
    from pyworkflow.events import DecisionRejectedEvent

    events = [
        event(1, "WorkflowExecutionStarted", workflowType={"name": "Foo", "version": "1.0"}),
        event(
            2,
            "CompleteWorkflowExecutionFailed",
            cause="UNHANDLED_DECISION",
            decisionTaskCompletedEventId=1,
        ),
    ]
    history = decode_history("p1", "r1", iter(events)).process().history
    assert history[-1] == DecisionRejectedEvent(CompleteProcess(), UNHANDLED_DECISION)
