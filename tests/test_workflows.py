"""DefaultWorkflow's respond_to_* dispatch and RuleSetWorkflow's rule decorators,
run by real workers step by step."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow import rules
from pyworkflow.activity import Activity, ActivityFailed, ActivityTimedOut
from pyworkflow.decision import (
    CompleteProcess,
    FailProcess,
    RecordMarker,
    ScheduleActivity,
    StartChildProcess,
    Timer,
)
from pyworkflow.events import SignalEvent
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted, ProcessFailed
from pyworkflow.rules import RuleDoesNotApplyException
from pyworkflow.signal import Signal
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import DefaultWorkflow, RuleSetWorkflow, Workflow

from .support import EchoActivity


class DoubleActivity(Activity):
    def execute(self) -> Any:
        return self.input * 2


class FailingActivity(Activity):
    def execute(self) -> Any:
        raise RuntimeError(f"cannot handle {self.input}")


class ChildWorkflow(Workflow):
    def decide(self, process: Process) -> Any:
        return CompleteProcess({"child": process.input})


def drain(manager: Manager) -> int:
    """Run deciders and activity workers until nothing is due; how many tasks ran."""
    decider, worker = DecisionWorker(manager), ActivityWorker(manager)
    steps = 0
    while decider.step() or worker.step():
        steps += 1
        assert steps < 200, "runaway workflow"
    return steps


def markers(process: Process) -> list[str]:
    return [
        event.decision.name
        for event in process.history
        if event.type == "decision" and isinstance(event.decision, RecordMarker)
    ]


# -- DefaultWorkflow -----------------------------------------------------------------------


class SumWorkflow(DefaultWorkflow):
    """Doubles each number of the input; on signal 'add' doubles one more; completes with
    the sum once a timer fires after everything is back, fails on an interruption."""

    activities = [DoubleActivity, FailingActivity]

    def initiate(self, process: Process) -> Any:
        return [ScheduleActivity(DoubleActivity, input=n) for n in process.input] + [
            RecordMarker("initiated"),
            RecordMarker("initiated"),  # duplicates are removed
        ]

    def respond_to_completed_activity(self, process, activity_execution, result):
        if not process.unfinished_activities():
            return Timer(10, data={"then": "complete"}, id="settle")
        return None

    def respond_to_interrupted_activity(self, process, activity_execution, result):
        return FailProcess("interrupted", {"by": activity_execution.activity, "as": result.type})

    def respond_to_signal(self, process, signal):
        if signal.name == "add":
            return ScheduleActivity(DoubleActivity, input=signal.data["n"])
        if signal.name == "break":
            return ScheduleActivity(FailingActivity, input="x")
        return RecordMarker(f"ignored {signal.name}")

    def respond_to_timer(self, process, timer):
        doubled = [
            event.result.result
            for event in process.history
            if event.type == "activity" and event.result.type == "completed"
        ]
        return CompleteProcess(sum(doubled))

    def respond_to_child_process(self, process, child_process_id, workflow, result, tags):
        raise AssertionError("no children here")


@pytest.fixture
def manager(backend) -> Manager:
    return Manager(backend, workflows=[SumWorkflow, RulesWorkflow, ChildWorkflow])


def test_default_workflow_dispatches_each_unseen_event(manager, clock):
    process_id = manager.start_process(Process(workflow=SumWorkflow, input=[1, 2, 3]))
    drain(manager)
    manager.signal_process(process_id, Signal("add", {"n": 10}))
    manager.signal_process(process_id, Signal("hello"))
    drain(manager)
    process = manager.process_by_id(process_id)
    assert process.is_open
    assert markers(process) == ["initiated", "ignored hello"]
    clock.advance(10)
    drain(manager)
    process = manager.process_by_id(process_id)
    assert process.result == ProcessCompleted(2 + 4 + 6 + 20)


def test_default_workflow_hands_interruptions_to_their_own_method(manager):
    process_id = manager.start_process(Process(workflow=SumWorkflow, input=[]))
    drain(manager)
    manager.signal_process(process_id, Signal("break"))
    drain(manager)
    process = manager.process_by_id(process_id)
    assert process.result == ProcessFailed("interrupted", {"by": "Failing", "as": "failed"})


def test_default_workflow_unimplemented_response_is_a_decision_failure(backend, clock):
    class BareWorkflow(DefaultWorkflow):
        def initiate(self, process: Process) -> Any:
            return None

    manager = Manager(backend, workflows=[BareWorkflow])
    process_id = manager.start_process(Process(workflow=BareWorkflow))
    drain(manager)
    manager.signal_process(process_id, Signal("unexpected"))
    drain(manager)
    process = manager.process_by_id(process_id)
    assert process.is_open
    assert process.history[-1].type == "decision_failed"
    assert "NotImplementedError" in process.history[-1].reason


# -- RuleSetWorkflow -----------------------------------------------------------------------


class RulesWorkflow(RuleSetWorkflow):
    activities = [EchoActivity, FailingActivity]

    @rules.process_started
    def begin(self, event, process):
        return ScheduleActivity(EchoActivity, id="first", input=1)

    @rules.process_started()
    def note_start(self, event, process):
        return RecordMarker("started")

    @rules.completed_activity(activity=EchoActivity, input=1)
    def after_first(self, event, process):
        return [
            ScheduleActivity(FailingActivity, id="second", input=2),
            ScheduleActivity(EchoActivity, id="third", input=3),
        ]

    @rules.completed_activity(input=lambda value: value > 1)
    def after_later_ones(self, event, process):
        return RecordMarker(f"echoed {event.activity_execution.input}")

    @rules.interrupted_activity(activity=FailingActivity, result=ActivityFailed)
    def after_failure(self, event, process):
        return StartChildProcess(Process(workflow=ChildWorkflow, id="child", input=7, tags=["kid"]))

    @rules.interrupted_activity(result=ActivityTimedOut)
    def never(self, event, process):
        raise AssertionError("nothing timed out")

    @rules.child_process_completed(workflow=ChildWorkflow, has_tag="kid", result=ProcessCompleted)
    def after_child(self, event, process):
        return Timer(5, data={"kind": "tick"}, id="tick")

    @rules.child_process_completed(tags=["other"])
    def other_child(self, event, process):
        raise AssertionError("no such child")

    @rules.timer(data={"kind": "tick"})
    def on_tick(self, event, process):
        return RecordMarker("ticked")

    # Rules fire in the order they are defined, and a closing decision must come last.
    @rules.rule(lambda event: event.type == "signal")
    def any_signal(self, event, process):
        return RecordMarker(f"signal {event.signal.name}")

    @rules.signal(name="finish")
    def on_finish(self, event, process):
        return CompleteProcess(markers(process))


def test_every_matching_rule_fires(manager, clock):
    process_id = manager.start_process(Process(workflow=RulesWorkflow))
    drain(manager)
    assert manager.process_by_id("child").result == ProcessCompleted({"child": 7})
    clock.advance(5)
    drain(manager)
    manager.signal_process(process_id, Signal("other"))
    drain(manager)
    manager.signal_process(process_id, Signal("finish"))
    drain(manager)
    process = manager.process_by_id(process_id)
    assert markers(process) == ["started", "echoed 3", "ticked", "signal other", "signal finish"]
    assert process.result == ProcessCompleted(["started", "echoed 3", "ticked", "signal other"])


def test_a_rule_called_on_an_event_it_does_not_match_says_so():
    workflow = RulesWorkflow()
    process = Process(workflow=RulesWorkflow)
    [started] = process.history
    assert RulesWorkflow.begin.match(started)
    assert RulesWorkflow.begin(workflow, started, process) == ScheduleActivity(
        EchoActivity, id="first", input=1
    )
    with pytest.raises(RuleDoesNotApplyException):
        RulesWorkflow.on_finish(workflow, started, process)


def test_rulesets_are_inherited_and_extended():
    class MoreRules(RulesWorkflow):
        @rules.signal(name="extra")
        def on_extra(self, event, process):
            return RecordMarker("extra")

    assert len(MoreRules.ruleset) == len(RulesWorkflow.ruleset) + 1
    assert MoreRules.name == "MoreRules"


def test_a_subclass_overrides_an_inherited_rule_by_name():
    class Base(RuleSetWorkflow):
        @rules.signal(name="go")
        def on_go(self, event, process):
            return RecordMarker("base")

        @rules.signal(name="stop")
        def on_stop(self, event, process):
            return RecordMarker("stop")

    class Override(Base):
        @rules.signal(name="go")
        def on_go(self, event, process):
            return RecordMarker("override")

    class Disable(Base):
        def on_stop(self, event, process):  # no longer a rule
            return None

    process = Process(workflow="Any")
    go = [RecordMarker("override")]
    assert Override().handle_event(SignalEvent(Signal("go")), process) == go
    assert Base().handle_event(SignalEvent(Signal("go")), process) == [RecordMarker("base")]
    assert Disable().handle_event(SignalEvent(Signal("stop")), process) == []
    assert len(Override.ruleset) == 2


# -- each event dispatched once --------------------------------------------------------------

HANDED: list[Any] = []


class CountingWorkflow(DefaultWorkflow):
    """Records every event it is handed; echoes each signal's number, completes on 'end'."""

    activities = [EchoActivity]

    def handle_event(self, event, process):
        HANDED.append(event)
        return super().handle_event(event, process)

    def initiate(self, process):
        return ScheduleActivity(EchoActivity, input=0)

    def respond_to_completed_activity(self, process, activity_execution, result):
        return None

    def respond_to_signal(self, process, signal):
        if signal.name == "end":
            return CompleteProcess()
        return ScheduleActivity(EchoActivity, input=signal.data)


class CountingRules(RuleSetWorkflow):
    activities = [EchoActivity]

    @rules.rule(lambda event: True)
    def every_event(self, event, process):
        HANDED.append(event)
        return None

    @rules.process_started()
    def begin(self, event, process):
        return ScheduleActivity(EchoActivity, input=0)

    @rules.signal(name="more")
    def more(self, event, process):
        return ScheduleActivity(EchoActivity, input=event.signal.data)

    @rules.signal(name="end")
    def end(self, event, process):
        return CompleteProcess()


@pytest.mark.parametrize("workflow", [CountingWorkflow, CountingRules])
def test_each_event_is_dispatched_once_across_decisions(backend, workflow):
    HANDED.clear()
    manager = Manager(backend, workflows=[workflow])
    process_id = manager.start_process(Process(workflow=workflow))
    drain(manager)
    for n in (1, 2):
        manager.signal_process(process_id, Signal("more", n))
        drain(manager)
    manager.signal_process(process_id, Signal("end"))
    drain(manager)
    process = manager.process_by_id(process_id)
    assert process.result == ProcessCompleted()
    decisions = [event for event in process.history if event.type == "decision"]
    expected = [
        event
        for event in process.history
        if event.type not in ("decision_started", "process_completed") and event not in decisions
    ]
    # Decisions are handed back too (2014 semantics), once each, and answer nothing.
    assert [event for event in HANDED if event.type != "decision"] == expected
    handed_decisions = [event for event in HANDED if event.type == "decision"]
    assert len(handed_decisions) == len(decisions) - 1  # the closing one is never seen
    assert handed_decisions == decisions[:-1]
