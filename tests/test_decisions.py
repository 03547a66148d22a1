"""Decision tasks and what each decision does to a process."""

from __future__ import annotations

import pytest

from pyworkflow.activity import ActivityCompleted, ActivityExecution
from pyworkflow.decision import (
    CancelProcess,
    CompleteProcess,
    ContinueAsNew,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
)
from pyworkflow.events import (
    ActivityEvent,
    CancelRequestedEvent,
    DecisionEvent,
    DecisionRejectedEvent,
    DecisionStartedEvent,
    ProcessStartedEvent,
    SignalEvent,
)
from pyworkflow.exceptions import InvalidDecisionError, UnknownDecisionException
from pyworkflow.process import ProcessCanceled, ProcessCompleted, ProcessFailed
from pyworkflow.signal import Signal

from .support import (
    EchoActivity,
    OtherQueueActivity,
    decide,
    news,
    no_tasks,
    start,
    take_activity,
    take_decision,
    types,
)

# -- one decision task per process --------------------------------------------------------


def test_a_new_process_has_exactly_one_decision_task(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    assert task.attempt == 1
    assert manager.next_decision() is None


def test_events_during_a_decision_queue_one_more_task_after_it(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    manager.signal_process(process_id, Signal("a"))
    manager.signal_process(process_id, Signal("b"))
    assert manager.next_decision() is None  # still held
    manager.complete_task(task, [])

    task = take_decision(manager, process_id)
    assert manager.next_decision() is None
    manager.complete_task(task, [])
    assert manager.next_decision() is None


def test_several_events_between_decisions_make_one_task(manager):
    process_id = start(manager)
    decide(manager)
    for name in ("a", "b", "c"):
        manager.signal_process(process_id, Signal(name))
    task = take_decision(manager, process_id)
    assert [event.signal.name for event in news(task.process)] == ["a", "b", "c"]
    assert manager.next_decision() is None


def test_nothing_due_means_polls_return_none(manager):
    assert manager.next_decision() is None
    assert manager.next_activity() is None
    start(manager)
    decide(manager)
    assert no_tasks(manager)


def test_each_process_gets_its_own_decision_task(manager):
    first = start(manager)
    second = start(manager)
    tasks = [take_decision(manager), take_decision(manager)]
    assert {task.process.id for task in tasks} == {first, second}
    assert manager.next_decision() is None


def test_completing_a_decision_twice_is_refused(manager):
    start(manager)
    task = decide(manager)
    with pytest.raises(UnknownDecisionException):
        manager.complete_task(task, [])


def test_activity_categories_keep_tasks_apart(manager):
    process_id = start(manager)
    decide(
        manager,
        ScheduleActivity(OtherQueueActivity, id="o"),
        ScheduleActivity(EchoActivity, id="e", category="special", input=1),
    )
    assert manager.next_activity() is None
    other = take_activity(manager, category="other")
    assert other.activity_execution == ActivityExecution("OtherQueue", "o", None)
    special = take_activity(manager, category="special")
    assert special.activity_execution.id == "e"
    assert special.process_id == process_id


# -- closing decisions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "decision, result, status",
    [
        (CompleteProcess({"total": 12}), ProcessCompleted({"total": 12}), "completed"),
        (CancelProcess("enough"), ProcessCanceled("enough"), "canceled"),
        (FailProcess("broken", {"step": 2}), ProcessFailed("broken", {"step": 2}), "failed"),
    ],
)
def test_closing_decisions_set_status_and_result(manager, decision, result, status):
    process_id = start(manager)
    decide(manager, decision)
    process = manager.process_by_id(process_id)
    assert (process.status, process.result) == (status, result)
    assert process.history[-1] == DecisionEvent(decision)
    assert no_tasks(manager)


@pytest.mark.needs("closed_run_tasks")
def test_closing_a_process_drops_its_scheduled_activities(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    manager.signal_process(process_id, Signal("go"))
    decide(manager, CompleteProcess())
    assert manager.next_activity() is None


@pytest.mark.needs("close_not_last")
def test_a_closing_decision_must_be_last_and_nothing_is_written_otherwise(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    before = manager.process_by_id(process_id)
    with pytest.raises(InvalidDecisionError):
        manager.complete_task(task, [CompleteProcess(), ScheduleActivity(EchoActivity, id="x")])
    assert manager.process_by_id(process_id) == before
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id="x"), CompleteProcess()])
    assert manager.process_by_id(process_id).status == "completed"


def test_a_list_that_is_not_decisions_is_refused_before_anything_is_written(manager):
    process_id = start(manager)
    task = take_decision(manager, process_id)
    before = manager.process_by_id(process_id)
    with pytest.raises(InvalidDecisionError):
        manager.complete_task(task, [ScheduleActivity(EchoActivity, id="x"), "garbage"])
    assert manager.process_by_id(process_id) == before
    manager.complete_task(task, [])  # the task is still held and can be completed


def test_activity_class_is_shorthand_for_scheduling_it_on_the_process_input(manager):
    process_id = start(manager, input=[7, 8])
    decide(manager, EchoActivity)
    task = take_activity(manager)
    assert task.activity_execution.activity == "Echo"
    assert task.activity_execution.input == [7, 8]
    assert task.process_id == process_id


# -- markers, signals, cancel requests ----------------------------------------------------


def test_record_marker_is_a_note_and_schedules_nothing(manager):
    process_id = start(manager)
    decide(manager, RecordMarker("checkpoint", {"done": 3}))
    assert no_tasks(manager)
    process = manager.process_by_id(process_id)
    assert process.history[-1] == DecisionEvent(RecordMarker("checkpoint", {"done": 3}))
    assert process.is_open


@pytest.mark.needs("signal_external")
def test_signal_process_reaches_another_process_and_wakes_its_decider(manager):
    sender = start(manager)
    receiver = start(manager)
    for _ in range(2):
        decide(manager)

    manager.signal_process(sender, Signal("go"))
    decide(manager, SignalProcess(receiver, "hello", {"from": sender}), process_id=sender)

    task = take_decision(manager, receiver)
    assert news(task.process) == [SignalEvent(Signal("hello", {"from": sender}))]
    assert manager.next_decision() is None


@pytest.mark.needs("signal_external")
def test_signal_to_an_unknown_or_closed_process_is_rejected_and_the_sender_told(manager):
    closed = start(manager)
    decide(manager, CompleteProcess(), process_id=closed)
    sender = start(manager)
    decide(
        manager,
        SignalProcess(closed, "late"),
        SignalProcess("no-such-process", "lost"),
        process_id=sender,
    )
    task = take_decision(manager, sender)
    rejected = news(task.process)
    assert [event.type for event in rejected] == ["decision_rejected", "decision_rejected"]
    assert rejected[0].decision == SignalProcess(closed, "late")
    assert closed in rejected[0].reason
    assert isinstance(rejected[1], DecisionRejectedEvent)
    assert types(manager.process_by_id(closed))[-1] == "decision"


@pytest.mark.needs("cancel_external")
def test_request_cancel_lets_the_target_decider_choose(manager):
    target = start(manager)
    decide(manager, process_id=target)
    requester = start(manager)
    decide(manager, RequestCancelProcess(target, "please stop"), process_id=requester)

    task = take_decision(manager, target)
    assert news(task.process) == [CancelRequestedEvent("please stop")]
    assert task.process.is_open
    manager.complete_task(task, CancelProcess("as asked"))
    assert manager.process_by_id(target).result == ProcessCanceled("as asked")


@pytest.mark.needs("request_cancel")
def test_request_cancel_through_the_manager_asks_the_decider(manager):
    process_id = start(manager)
    decide(manager)
    manager.request_cancel_process(process_id, "from outside")
    task = take_decision(manager, process_id)
    assert news(task.process) == [CancelRequestedEvent("from outside")]
    manager.complete_task(task, [])  # the decider may ignore it
    assert manager.process_by_id(process_id).is_open


def test_scheduling_an_unregistered_activity_is_rejected_and_reported(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity("Nope", id="n"))
    assert manager.next_activity() is None
    task = take_decision(manager, process_id)
    [rejected] = news(task.process)
    assert isinstance(rejected, DecisionRejectedEvent)
    assert "Nope" in rejected.reason


def test_reusing_an_open_activity_id_is_rejected(manager):
    process_id = start(manager)
    decide(manager, ScheduleActivity(EchoActivity, id="same", input=1))
    manager.signal_process(process_id, Signal("again"))
    decide(manager, ScheduleActivity(EchoActivity, id="same", input=2))
    task = take_activity(manager)
    assert task.activity_execution.input == 1
    assert manager.next_activity() is None


# -- continue as new -----------------------------------------------------------------------


@pytest.mark.needs("continue_as_new")
def test_continue_as_new_keeps_the_id_and_starts_a_fresh_history(manager):
    process_id = start(manager, input=1, tags=["t"])
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    manager.complete_task(take_activity(manager), 1)
    decide(manager, ContinueAsNew(input=2), process_id=process_id)

    task = take_decision(manager, process_id)
    assert task.process.history == [ProcessStartedEvent(), DecisionStartedEvent()]
    assert task.process.input == 2
    assert task.process.tags == ["t"]
    assert manager.process_by_id(process_id).is_open
    manager.complete_task(task, CompleteProcess("second run"))

    process = manager.process_by_id(process_id)
    assert process.result == ProcessCompleted("second run")
    runs = manager.processes(status="all")
    assert sorted(run.status for run in runs if run.id == process_id) == [
        "completed",
        "continued_as_new",
    ]
    old = [run for run in runs if run.status == "continued_as_new"][0]
    assert ActivityEvent(ActivityExecution("Echo", "a", 1), ActivityCompleted(1)) in old.history


@pytest.mark.needs("continue_as_new")
def test_continue_as_new_can_change_tags_and_drops_open_work(manager):
    process_id = start(manager, tags=["old"])
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1))
    manager.signal_process(process_id, Signal("roll"))
    decide(manager, ContinueAsNew(input="x", tags=["new"]))
    assert manager.next_activity() is None
    task = take_decision(manager, process_id)
    assert task.process.tags == ["new"]
    assert [p.id for p in manager.processes(tag="new")] == [process_id]
    assert manager.processes(tag="old") == []
