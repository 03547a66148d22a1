"""Activity, decision and workflow timeouts, driven by the manual clock."""

from __future__ import annotations

import pytest

from pyworkflow.activity import ActivityExecution, ActivityTimedOut
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.events import (
    ActivityEvent,
    ActivityStartedEvent,
    DecisionStartedEvent,
    DecisionTimedOutEvent,
    ProcessStartedEvent,
    ProcessTimedOutEvent,
)
from pyworkflow.exceptions import (
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
)
from pyworkflow.process import ProcessTimedOut
from pyworkflow.signal import Signal

from .support import (
    ManualWorkflow,
    ShortWorkflow,
    TimeoutsActivity,
    decide,
    news,
    no_tasks,
    start,
    take_activity,
    take_decision,
)

EXECUTION = ActivityExecution("Timeouts", "t", "in")


def schedule_timeouts_activity(manager) -> str:
    process_id = start(manager)
    decide(manager, ScheduleActivity(TimeoutsActivity, id="t", input="in"))
    return process_id


def timed_out_event(which: str) -> ActivityEvent:
    return ActivityEvent(EXECUTION, ActivityTimedOut(which))


# -- activity timeouts ---------------------------------------------------------------------


def test_scheduled_timeout_records_timed_out_and_wakes_the_decider(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    clock.advance(TimeoutsActivity.scheduled_timeout - 1)
    assert manager.next_decision() is None
    clock.advance(1)
    task = take_decision(manager, process_id)
    assert news(task.process) == [timed_out_event("scheduled_timeout")]
    assert task.process.unfinished_activities() == []
    assert manager.next_activity() is None


def test_scheduled_timeout_is_noticed_by_an_activity_poll_too(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    clock.advance(TimeoutsActivity.scheduled_timeout)
    assert manager.next_activity() is None
    assert manager.process_by_id(process_id).history[-1] == timed_out_event("scheduled_timeout")


def test_heartbeat_timeout_refuses_the_late_worker(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    task = take_activity(manager)
    clock.advance(TimeoutsActivity.heartbeat_timeout - 1)
    assert manager.heartbeat(task) is False
    clock.advance(TimeoutsActivity.heartbeat_timeout - 1)
    assert manager.heartbeat(task) is False  # each heartbeat extends the deadline
    clock.advance(TimeoutsActivity.heartbeat_timeout)

    decision = take_decision(manager, process_id)
    assert news(decision.process) == [
        ActivityStartedEvent(EXECUTION),
        timed_out_event("heartbeat_timeout"),
    ]
    with pytest.raises(UnknownActivityException):
        manager.heartbeat(task)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(task, "too late")
    history = manager.process_by_id(process_id).history
    assert [event.type for event in history].count("activity") == 1


def test_execution_timeout_holds_even_with_heartbeats(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    task = take_activity(manager)
    for _ in range(TimeoutsActivity.execution_timeout // 10 - 1):
        clock.advance(10)
        assert manager.heartbeat(task) is False
    clock.advance(10)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(task, "too late")
    decision = take_decision(manager, process_id)
    assert news(decision.process)[-1] == timed_out_event("execution_timeout")


def test_late_completion_is_refused_even_when_nothing_polled_in_between(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    task = take_activity(manager)
    clock.advance(TimeoutsActivity.heartbeat_timeout)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(task, "too late")
    assert manager.process_by_id(process_id).history[-1] == timed_out_event("heartbeat_timeout")


def test_completion_in_time_counts_and_no_timeout_follows(manager, clock):
    process_id = schedule_timeouts_activity(manager)
    task = take_activity(manager)
    clock.advance(TimeoutsActivity.heartbeat_timeout - 1)
    manager.complete_task(task, "done")
    clock.advance(TimeoutsActivity.execution_timeout * 2)
    decide(manager, process_id=process_id)
    results = [e for e in manager.process_by_id(process_id).history if e.type == "activity"]
    assert [event.result.type for event in results] == ["completed"]


# -- decision timeouts ---------------------------------------------------------------------


def test_decision_timeout_reoffers_the_task_and_refuses_the_late_decider(manager, clock):
    process_id = start(manager)
    late = take_decision(manager, process_id)
    clock.advance(29)
    assert manager.next_decision() is None
    clock.advance(1)

    task = take_decision(manager, process_id)
    assert task.attempt == 1
    assert task.process.history == [
        ProcessStartedEvent(),
        DecisionStartedEvent(),
        DecisionTimedOutEvent(),
        DecisionStartedEvent(),
    ]
    assert ProcessStartedEvent() in news(task.process)
    with pytest.raises(UnknownDecisionException):
        manager.complete_task(late, CompleteProcess("late"))
    manager.complete_task(task, CompleteProcess("in time"))
    assert manager.process_by_id(process_id).result.result == "in time"


def test_late_decision_is_refused_even_when_nothing_polled_in_between(manager, clock):
    process_id = start(manager)
    late = take_decision(manager, process_id)
    clock.advance(30)
    with pytest.raises(UnknownDecisionException):
        manager.complete_task(late, CompleteProcess("late"))
    process = manager.process_by_id(process_id)
    assert process.is_open
    assert process.history[-1] == DecisionTimedOutEvent()
    take_decision(manager, process_id)


def test_late_decision_failure_report_is_refused_too(manager, clock):
    process_id = start(manager)
    late = take_decision(manager, process_id)
    clock.advance(30)
    with pytest.raises(UnknownDecisionException):
        manager.fail_decision(late, "boom")
    assert "decision_failed" not in [e.type for e in manager.process_by_id(process_id).history]


# -- workflow timeout ----------------------------------------------------------------------


def test_workflow_timeout_closes_the_process_as_timed_out(manager, clock):
    process_id = start(manager, workflow=ShortWorkflow)
    decide(manager, ScheduleActivity(TimeoutsActivity, id="t", input="in"))
    activity = take_activity(manager)
    clock.advance(ShortWorkflow.timeout)

    assert no_tasks(manager)
    process = manager.process_by_id(process_id)
    assert process.status == "timed_out"
    assert process.result == ProcessTimedOut()
    assert process.history[-1] == ProcessTimedOutEvent()
    with pytest.raises(UnknownActivityException):
        manager.complete_task(activity, "late")
    with pytest.raises(ProcessClosedException):
        manager.signal_process(process_id, Signal("late"))


def test_workflow_timeout_is_seen_without_any_poll(manager, clock):
    process_id = start(manager, workflow=ShortWorkflow)
    clock.advance(ShortWorkflow.timeout)
    assert manager.process_by_id(process_id).status == "timed_out"
    assert [p.id for p in manager.processes(status="timed_out")] == [process_id]
    assert manager.processes() == []


def test_workflow_timeout_refuses_the_decision_in_hand(manager, clock):
    process_id = start(manager, workflow=ShortWorkflow)
    task = take_decision(manager, process_id)
    clock.advance(ShortWorkflow.timeout)
    with pytest.raises(UnknownDecisionException):
        manager.complete_task(task, CompleteProcess())
    assert manager.process_by_id(process_id).status == "timed_out"


def test_signal_after_timeout_is_refused_even_without_a_poll(manager, clock):
    process_id = start(manager, workflow=ShortWorkflow)
    decide(manager)
    clock.advance(ShortWorkflow.timeout)
    with pytest.raises(ProcessClosedException):
        manager.signal_process(process_id, Signal("late"))
    assert manager.process_by_id(process_id).history[-1] == ProcessTimedOutEvent()


# -- many deadlines passing at once ---------------------------------------------------------

MANY = 250  # more than the engine handles in one sweep


def test_every_expired_activity_refuses_its_late_worker_however_many_expired(manager, clock):
    process_id = start(manager)
    decide(manager, *[ScheduleActivity(TimeoutsActivity, id=f"t{n}") for n in range(MANY)])
    tasks = [take_activity(manager) for _ in range(MANY)]
    clock.advance(TimeoutsActivity.heartbeat_timeout)
    for task in reversed(tasks):
        with pytest.raises(UnknownActivityException):
            manager.complete_task(task, "late")
    history = manager.process_by_id(process_id).history
    results = [event.result for event in history if event.type == "activity"]
    assert results == [ActivityTimedOut("heartbeat_timeout")] * MANY


def test_every_timed_out_process_refuses_signals_however_many_timed_out(manager, clock):
    ids = [start(manager, workflow=ShortWorkflow) for _ in range(MANY)]
    clock.advance(ShortWorkflow.timeout)
    for process_id in reversed(ids):
        with pytest.raises(ProcessClosedException):
            manager.signal_process(process_id, Signal("late"))
    assert manager.processes() == []
    assert len(manager.processes(status="timed_out")) == MANY


def test_every_timed_out_decision_refuses_its_late_decider_however_many(manager, clock):
    ids = [start(manager) for _ in range(MANY)]
    tasks = [take_decision(manager) for _ in ids]
    clock.advance(ManualWorkflow.decision_timeout)
    for task in reversed(tasks):
        with pytest.raises(UnknownDecisionException):
            manager.complete_task(task, CompleteProcess())
    assert len(manager.processes()) == MANY


def test_no_task_is_handed_out_past_its_deadline_however_many_expired(manager, clock):
    queued = start(manager)
    decide(manager, *[ScheduleActivity(TimeoutsActivity, id=f"q{n}") for n in range(MANY)])
    for _ in range(MANY):
        start(manager, workflow=ShortWorkflow)
    clock.advance(ShortWorkflow.timeout)
    assert manager.next_activity() is None
    task = take_decision(manager, queued)  # woken by its queued activities timing out
    assert manager.next_decision() is None
    timed_out = [e for e in task.process.history if e.type == "activity"]
    assert len(timed_out) == MANY


def test_a_refused_call_keeps_the_deadlines_it_found_expired(manager, clock):
    # The engine expires a deadline, then refuses the late caller: the timeout stays.
    process_id = start(manager)
    decide(manager, ScheduleActivity(TimeoutsActivity.name, id="late"))
    task = manager.next_activity()
    assert task is not None
    clock.advance(TimeoutsActivity.execution_timeout + 1)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(task, "too late")
    history = manager.process_by_id(process_id).history
    assert history[-1].type == "activity"
    assert history[-1].result.type == "timedout"
