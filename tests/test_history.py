"""Whole histories in the 2014 layout, and the Process helpers that read them."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from pyworkflow.activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
)
from pyworkflow.decision import (
    CancelActivity,
    CancelTimer,
    CompleteProcess,
    ScheduleActivity,
    Timer,
)
from pyworkflow.events import (
    ActivityEvent,
    ActivityStartedEvent,
    DecisionEvent,
    DecisionStartedEvent,
    ProcessStartedEvent,
    SignalEvent,
    TimerEvent,
)
from pyworkflow.exceptions import UnknownActivityException
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.signal import Signal

from .support import EchoActivity, ManualWorkflow, decide, news, start, take_activity, take_decision


def test_one_activity_then_complete_reads_as_in_2014(manager, clock):
    process_id = start(manager, input=[3, 2])
    execution = ActivityExecution("Echo", "a1", 6)

    task = take_decision(manager, process_id)
    assert task.process.history == [ProcessStartedEvent(), DecisionStartedEvent()]
    assert task.process.workflow == "Manual"
    assert task.process.input == [3, 2]
    manager.complete_task(task, ScheduleActivity(EchoActivity, id="a1", input=6))

    activity_task = take_activity(manager)
    assert activity_task.activity_execution == execution
    assert activity_task.process_id == process_id
    manager.complete_task(activity_task, 6)

    task = take_decision(manager, process_id)
    manager.complete_task(task, CompleteProcess(6))

    process = manager.process_by_id(process_id)
    assert process.history == [
        ProcessStartedEvent(),
        DecisionStartedEvent(),
        DecisionEvent(ScheduleActivity("Echo", id="a1", input=6)),
        ActivityStartedEvent(execution),
        ActivityEvent(execution, ActivityCompleted(6)),
        DecisionStartedEvent(),
        DecisionEvent(CompleteProcess(6)),
    ]
    assert process.status == "completed"
    assert process.result == ProcessCompleted(6)
    assert not process.is_open


def test_event_times_are_utc_and_come_from_the_backend_clock(manager, clock):
    process_id = start(manager)
    started = clock()
    clock.advance(5)
    decide(manager)
    history = manager.process_by_id(process_id).history
    assert [event.datetime for event in history] == [
        started,
        started + timedelta(seconds=5),
    ]
    for event in history:
        assert event.datetime.utcoffset() == timedelta(0)
        assert event.datetime.tzinfo is not None
    assert history[0].datetime.astimezone(timezone.utc) == started


@pytest.mark.needs("manual_clock")
def test_a_claim_whose_moment_was_read_early_still_follows_the_history(manager, clock):
    """A call reads its moment as it begins; on PostgreSQL the commit that made the
    task it claims may come after that. The clock stepping back stands in for such
    a stale moment: each claim's event still comes no earlier than the one before."""
    process_id = start(manager)
    clock.advance(10)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    clock.advance(-5)
    task = take_activity(manager)
    clock.advance(10)
    manager.complete_task(task, 1)
    clock.advance(10)
    manager.signal_process(process_id, Signal("late"))
    clock.advance(-5)
    take_decision(manager, process_id)
    times = [event.datetime for event in manager.process_by_id(process_id).history]
    assert times == sorted(times)
    assert len(times) == 7


def test_each_decision_is_one_event_in_the_order_returned(manager):
    process_id = start(manager)
    decisions = [
        ScheduleActivity(EchoActivity, id="a", input=1),
        ScheduleActivity(EchoActivity, id="b", input=2),
        Timer(5, data={"t": 1}, id="t1"),
    ]
    decide(manager, *decisions)
    history = manager.process_by_id(process_id).history
    assert history[2:] == [DecisionEvent(decision) for decision in decisions]


def test_decider_sees_whole_history_with_timestamps_left_out_of_equality(manager, clock):
    process_id = start(manager)
    clock.advance(100)
    task = take_decision(manager, process_id)
    assert task.process == manager.process_by_id(process_id)
    assert task.process.has_event(ProcessStartedEvent())


def test_unseen_events_are_those_since_the_previous_decision(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    assert news(task.process) == [ProcessStartedEvent()]
    manager.complete_task(task, ScheduleActivity(EchoActivity, id="a1", input=1))

    activity = take_activity(manager)
    manager.signal_process(process_id, Signal("poke", {"n": 1}))
    manager.complete_task(activity, 1)

    task = take_decision(manager, process_id)
    execution = ActivityExecution("Echo", "a1", 1)
    assert task.process.unseen_events() == [
        DecisionEvent(ScheduleActivity(EchoActivity, id="a1", input=1)),
        ActivityStartedEvent(execution),
        SignalEvent(Signal("poke", {"n": 1})),
        ActivityEvent(execution, ActivityCompleted(1)),
    ]


def test_unseen_events_as_in_2014():
    """Leave out the last decision_started; take what follows the one before, decisions too."""
    act1 = ScheduleActivity(EchoActivity, id="act1")
    process = Process(
        workflow="Manual",
        history=[
            SignalEvent(Signal("signal1")),
            DecisionStartedEvent(),
            DecisionEvent(act1),
            SignalEvent(Signal("signal2")),
            DecisionStartedEvent(),
        ],
    )
    assert process.unseen_events() == [DecisionEvent(act1), SignalEvent(Signal("signal2"))]
    process.history.append(DecisionEvent(act1))
    assert process.unseen_events() == []


def test_unseen_events_without_an_earlier_decision_started_are_all_but_the_last():
    history = [ProcessStartedEvent(), SignalEvent(Signal("early")), DecisionStartedEvent()]
    assert Process(workflow="Manual", history=history).unseen_events() == history[:-1]


def test_events_arriving_during_a_decision_stay_unseen_for_the_next_one(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    manager.signal_process(process_id, Signal("during"))
    manager.complete_task(task, [])

    task = take_decision(manager, process_id)
    assert news(task.process) == [SignalEvent(Signal("during"))]


def test_unseen_events_after_an_empty_decision(manager):
    process_id = start(manager)
    decide(manager)
    manager.signal_process(process_id, Signal("one"))
    task = take_decision(manager, process_id)
    assert news(task.process) == [SignalEvent(Signal("one"))]


@pytest.mark.needs("cancel_activity")
def test_unfinished_activities_lists_scheduled_executions_without_a_result(manager):
    process_id = start(manager)
    decide(
        manager,
        ScheduleActivity(EchoActivity, id="a", input=1),
        ScheduleActivity(EchoActivity, id="b", input=2),
        ScheduleActivity(EchoActivity, id="c", input=3),
    )
    first = take_activity(manager)
    manager.complete_task(first, ActivityFailed("no"))
    task = take_decision(manager, process_id)
    finished = first.activity_execution
    left = [
        execution
        for execution in (
            ActivityExecution("Echo", "a", 1),
            ActivityExecution("Echo", "b", 2),
            ActivityExecution("Echo", "c", 3),
        )
        if execution != finished
    ]
    assert task.process.unfinished_activities() == left
    manager.complete_task(task, CancelActivity(left[0].id))

    task = take_decision(manager, process_id)
    assert task.process.unfinished_activities() == left[1:]
    assert news(task.process) == [ActivityEvent(left[0], ActivityCanceled())]


def test_untriggered_timers_leave_out_fired_and_canceled_timers(manager, clock):
    process_id = start(manager)
    fires = Timer(5, data={"which": "fires"}, id="fires")
    canceled = Timer(10, data={"which": "canceled"}, id="canceled")
    waits = Timer(100, data={"which": "waits"}, id="waits")
    decide(manager, fires, canceled, waits)

    clock.advance(5)
    task = take_decision(manager, process_id)
    assert news(task.process) == [TimerEvent(fires)]
    assert task.process.untriggered_timers() == [canceled, waits]
    manager.complete_task(task, CancelTimer("canceled"))

    process = manager.process_by_id(process_id)
    assert process.untriggered_timers() == [waits]


def test_has_decision_finds_a_recorded_decision(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="x", input=[1]))
    process = manager.process_by_id(process_id)
    assert process.has_decision(ScheduleActivity("Echo", id="x", input=[1]))
    assert not process.has_decision(ScheduleActivity("Echo", id="y", input=[1]))
    assert process.workflow == ManualWorkflow.name


def test_a_finished_activity_task_takes_no_more_reports(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    task = take_activity(manager)
    assert task.attempt == 1
    manager.complete_task(task, 1)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(task, 2)
    with pytest.raises(UnknownActivityException):
        manager.heartbeat(task)
    results = [e for e in manager.process_by_id(process_id).history if e.type == "activity"]
    assert [event.result for event in results] == [ActivityCompleted(1)]


def test_untriggered_timers_can_disregard_what_the_decider_has_not_seen(manager, clock):
    process_id = start(manager)
    timer = Timer(5, id="t")
    decide(manager, timer)
    clock.advance(5)
    task = take_decision(manager, process_id)
    assert task.process.untriggered_timers() == []
    assert task.process.untriggered_timers(disregard_unseen=True) == [timer]
