"""Values: equality by fields with timestamps left out, hashing, names, aliases, UTC."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

import pyworkflow
from pyworkflow import activity, decision, events, exceptions, process, task
from pyworkflow.activity import (
    Activity,
    ActivityAborted,
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityTimedOut,
)
from pyworkflow.decision import (
    CancelActivity,
    CancelTimer,
    CompleteProcess,
    ScheduleActivity,
    StartChildProcess,
    Timer,
)
from pyworkflow.events import (
    ActivityEvent,
    DecisionStartedEvent,
    ProcessStartedEvent,
    SignalEvent,
    TimerEvent,
)
from pyworkflow.process import Process, ProcessCompleted, ProcessFailed
from pyworkflow.signal import Signal
from pyworkflow.task import ActivityTask
from pyworkflow.workflow import Workflow

from .support import EchoActivity, ManualWorkflow


def test_events_compare_by_value_without_their_timestamps():
    early = datetime(2020, 1, 1, tzinfo=timezone.utc)
    late = early + timedelta(days=300)
    assert ProcessStartedEvent(early) == ProcessStartedEvent(late)
    assert SignalEvent(Signal("a", 1), early) == SignalEvent(Signal("a", 1), late)
    assert SignalEvent(Signal("a", 1)) != SignalEvent(Signal("a", 2))
    assert ProcessStartedEvent() != DecisionStartedEvent()
    execution = ActivityExecution("Echo", "1", [1])
    assert ActivityEvent(execution, ActivityCompleted(2), early) == ActivityEvent(
        execution, ActivityCompleted(2), late
    )
    assert hash(ActivityEvent(execution, ActivityCompleted(2), early)) == hash(
        ActivityEvent(execution, ActivityCompleted(2), late)
    )


def test_default_event_time_is_utc_now():
    before = datetime.now(timezone.utc)
    event = ProcessStartedEvent()
    assert event.datetime.tzinfo is not None
    assert event.datetime.utcoffset() == timedelta(0)
    assert before <= event.datetime <= datetime.now(timezone.utc)


def test_values_with_list_and_dict_payloads_hash_and_dedupe():
    a = ScheduleActivity("Echo", id="x", input={"l": [1, 2]})
    b = ScheduleActivity("Echo", id="x", input={"l": [1, 2]})
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


def test_timers_hash_so_fired_ones_are_found_in_sets():
    timer = Timer(5, data={"k": [1]}, id="t")
    same = Timer(5, data={"k": [1]}, id="t")
    assert hash(timer) == hash(same)
    assert {TimerEvent(timer)} == {TimerEvent(same)}
    assert Timer(5) == Timer(5, data={})


def test_results_of_different_kinds_never_compare_equal():
    assert ActivityCanceled("x") != ActivityFailed("x")
    assert ActivityCompleted(None) != ActivityCanceled(None)
    assert ProcessCompleted(1) != ProcessFailed(1)


def test_activity_aborted_is_activity_canceled():
    assert ActivityAborted is ActivityCanceled
    assert ActivityAborted("no") == ActivityCanceled("no")
    assert pyworkflow.ActivityAborted is ActivityCanceled


@pytest.mark.parametrize(
    "result", [ActivityCanceled("c"), ActivityFailed("r", "d"), ActivityTimedOut("t")]
)
def test_interrupted_results_can_be_raised_and_caught(result):
    with pytest.raises(type(result)) as caught:
        raise result
    assert caught.value == result


def test_result_fields_and_type_strings():
    assert (ActivityCompleted(3).type, ActivityCompleted(3).result) == ("completed", 3)
    failed = ActivityFailed("reason", "details")
    assert (failed.type, failed.reason, failed.details) == ("failed", "reason", "details")
    assert ActivityCanceled().type == "canceled"
    assert ActivityTimedOut().type == "timedout"


def test_names_drop_the_activity_and_workflow_suffixes():
    class MultiplicationActivity(Activity):
        pass

    class FooWorkflow(Workflow):
        pass

    class Activity2(Activity):
        pass

    assert MultiplicationActivity.name == "Multiplication"
    assert FooWorkflow.name == "Foo"
    assert Activity2.name == "Activity2"
    assert Process(workflow=FooWorkflow).workflow == "Foo"
    assert Process(workflow="Foo").workflow == "Foo"
    assert ScheduleActivity(MultiplicationActivity).activity == "Multiplication"


def test_schedule_activity_gets_a_fresh_uuid_unless_given_an_id():
    first, second = ScheduleActivity(EchoActivity), ScheduleActivity(EchoActivity)
    assert uuid.UUID(first.id) and first.id != second.id
    assert ScheduleActivity(EchoActivity, id="mine").id == "mine"


def test_cancel_decisions_take_the_thing_or_its_id():
    execution = ActivityExecution("Echo", "a1")
    assert CancelActivity(execution) == CancelActivity("a1")
    assert CancelTimer(Timer(5, id="t")) == CancelTimer("t")


def test_decision_type_strings():
    assert ScheduleActivity("Echo").type == "schedule_activity"
    assert CompleteProcess().type == "complete_process"
    assert Timer(1).type == "timer"


def test_a_new_process_starts_its_history_and_gets_ids_only_where_asked():
    new = Process(workflow=ManualWorkflow, input=[1])
    assert new.history == [ProcessStartedEvent()]
    assert new.id is None
    assert new.status == "open" and new.result is None
    copy = new.copy_with_id("p1")
    assert copy.id == "p1" and copy.input == [1] and copy.workflow == "Manual"
    child = StartChildProcess(Process(workflow=ManualWorkflow)).process
    assert child.id is not None


def test_processes_compare_by_workflow_id_input_tags_parent_and_history():
    base = dict(workflow="W", id="1", input=[1], tags=["t"], parent="p")
    assert Process(**base) == Process(**base)
    assert Process(**base) == Process(**base, status="completed", result=ProcessCompleted())
    for field, other in [("id", "2"), ("input", [2]), ("tags", ["u"]), ("parent", "q")]:
        assert Process(**base) != Process(**{**base, field: other})
    assert Process(**base) != Process(**base, history=[])


def test_activity_instances_compare_by_class_and_task():
    execution = ActivityExecution("Echo", "1", 5)
    task_ = ActivityTask(execution, process_id="p")
    assert EchoActivity(task_) == EchoActivity(ActivityTask(execution, process_id="p"))
    assert EchoActivity(task_).input == 5
    assert EchoActivity(task_).task is task_
    assert ManualWorkflow() == ManualWorkflow()
    assert ManualWorkflow() != Workflow()


def test_tasks_default_to_attempt_one():
    assert ActivityTask(ActivityExecution("Echo", "1")).attempt == 1
    assert ActivityTask(ActivityExecution("Echo", "1"), context={"attempt": 3}).attempt == 3


def test_unknown_errors_share_a_base():
    for error in (
        exceptions.UnknownActivityException,
        exceptions.UnknownDecisionException,
        exceptions.UnknownProcessException,
    ):
        assert issubclass(error, exceptions.UnknownResourceException)
    assert issubclass(exceptions.InvalidPayloadError, ValueError)


def test_everyday_names_are_reexported_from_the_package():
    for module in (activity, decision, events, process, task):
        assert module.__name__.startswith("pyworkflow.")
    for name in pyworkflow.__all__:
        assert getattr(pyworkflow, name) is not None
    assert pyworkflow.Manager is pyworkflow.manager.Manager
    assert pyworkflow.ActivityWorker is pyworkflow.worker.ActivityWorker
