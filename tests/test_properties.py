"""Random interleavings of everything a user and workers can do, against a fresh
backend per example, checking the invariants the SWF rules promise:

- at most one decision task is outstanding per process, and none is ever dropped;
- each scheduled activity is handed out at most once and ends in exactly one result;
- a closed process gets no tasks and no events.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from pyworkflow.activity import Activity, ActivityCanceled, ActivityFailed
from pyworkflow.clock import ManualClock
from pyworkflow.decision import (
    CancelActivity,
    CancelProcess,
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
from pyworkflow.events import ActivityEvent, DecisionStartedEvent
from pyworkflow.exceptions import (
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
)
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.signal import Signal
from pyworkflow.task import ActivityTask, DecisionTask
from pyworkflow.workflow import Workflow


class WorkActivity(Activity):
    scheduled_timeout = 30
    execution_timeout = 60
    heartbeat_timeout = 20


class PropWorkflow(Workflow):
    activities = [WorkActivity]
    timeout = 500
    decision_timeout = 40


# longer than any activity timeout, decision timeout and decision backoff
SETTLE = 61

DECISIONS = [
    "nothing",
    "schedule",
    "schedule two",
    "timer",
    "cancel activity",
    "marker",
    "signal another",
    "request cancel of another",
    "start child",
    "continue as new",
    "complete",
    "fail",
    "cancel",
]

CHILD_POLICIES = ["TERMINATE", "REQUEST_CANCEL", "ABANDON"]

# Only these events leave a process waiting for nothing: all others must wake the decider.
QUIET_EVENTS = {"activity_started", "decision"}


@dataclass
class HeldDecision:
    task: DecisionTask
    claimed_at: datetime
    superseded: bool = False


@dataclass
class Model:
    process_ids: list[str] = field(default_factory=list)
    decisions: list[HeldDecision] = field(default_factory=list)
    activities: list[ActivityTask] = field(default_factory=list)
    claimed_activities: set[tuple[str, str]] = field(default_factory=set)
    closed_histories: dict[str, list[Any]] = field(default_factory=dict)
    # child id: (parent id, child policy, the parent's run number when it started the child)
    children: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # process id: ContinueAsNew count


def activity_results(process: Process) -> dict[str, int]:
    counts = {}
    for event in process.history:
        if event.type == "decision" and isinstance(event.decision, ScheduleActivity):
            counts.setdefault(event.decision.id, 0)
        elif event.type == "activity":
            counts[event.activity_execution.id] = counts.get(event.activity_execution.id, 0) + 1
    return counts


def needs_a_decision(process: Process) -> bool:
    """Whether a decider looking now would find something new it must respond to."""
    looking = Process(history=[*process.history, DecisionStartedEvent()])
    return any(event.type not in QUIET_EVENTS for event in looking.unseen_events())


def make_machine(backend_factory):
    class WorkflowMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.clock = ManualClock()
            self.manager = Manager(backend_factory(self.clock), workflows=[PropWorkflow])
            self.model = Model()

        # -- helpers ----------------------------------------------------------------------

        def pick(self, items: list, index: int) -> Any:
            return items[index % len(items)] if items else None

        def process(self, process_id: str) -> Process:
            return self.manager.process_by_id(process_id)

        def decisions_for(self, choice: str, task: DecisionTask, n: int) -> list[Any]:
            others = [pid for pid in self.model.process_ids if pid != task.process.id]
            unfinished = task.process.unfinished_activities()
            if choice == "schedule":
                return [ScheduleActivity(WorkActivity, input=n)]
            if choice == "schedule two":
                return [ScheduleActivity(WorkActivity, input=n), ScheduleActivity(WorkActivity)]
            if choice == "timer":
                return [Timer([0, 5, 50][n % 3], data={"n": n})]
            if choice == "cancel activity" and unfinished:
                return [CancelActivity(self.pick(unfinished, n))]
            if choice == "marker":
                return [RecordMarker("m", n)]
            if choice == "signal another" and others:
                return [SignalProcess(self.pick(others, n), "hi", {"n": n})]
            if choice == "request cancel of another" and others:
                return [RequestCancelProcess(self.pick(others, n))]
            if choice == "start child":
                child = Process(workflow=PropWorkflow, input=n)
                return [StartChildProcess(child, child_policy=CHILD_POLICIES[n % 3])]
            if choice == "continue as new":
                return [ContinueAsNew(input=n)]
            if choice == "complete":
                return [CompleteProcess(n)]
            if choice == "fail":
                return [FailProcess("failed", n)]
            if choice == "cancel":
                return [CancelProcess(n)]
            return []

        # -- what users do ----------------------------------------------------------------

        @initialize()
        def first_process(self) -> None:
            self.start()

        @rule()
        def start(self) -> None:
            process_id = self.manager.start_process(Process(workflow=PropWorkflow, input=1))
            self.model.process_ids.append(process_id)

        @rule(index=st.integers(0, 50), data=st.integers(0, 9))
        def signal(self, index: int, data: int) -> None:
            process_id = self.pick(self.model.process_ids, index)
            try:
                self.manager.signal_process(process_id, Signal("poke", data))
            except ProcessClosedException:
                assert not self.process(process_id).is_open

        @rule(index=st.integers(0, 50), how=st.sampled_from(["cancel", "request", "terminate"]))
        def cancel(self, index: int, how: str) -> None:
            process_id = self.pick(self.model.process_ids, index)
            try:
                if how == "cancel":
                    self.manager.cancel_process(process_id, "user")
                    assert self.process(process_id).status == "canceled"
                elif how == "terminate":
                    self.manager.terminate_process(process_id, "ops")
                    assert self.process(process_id).status == "terminated"
                else:
                    self.manager.request_cancel_process(process_id, "please")
            except ProcessClosedException:
                assert not self.process(process_id).is_open

        @rule(seconds=st.sampled_from([1, 5, 19, 21, 41, 61, 200]))
        def advance(self, seconds: int) -> None:
            self.clock.advance(seconds)

        # -- what deciders do --------------------------------------------------------------

        @rule()
        def poll_decision(self) -> None:
            task = self.manager.next_decision()
            if task is None:
                return
            process_id = task.process.id
            assert task.process.is_open, "a closed process got a decision task"
            assert task.process.history[-1].type == "decision_started"
            now = self.clock()
            for held in self.model.decisions:
                if held.task.process.id == process_id and not held.superseded:
                    deadline = held.claimed_at + timedelta(seconds=PropWorkflow.decision_timeout)
                    assert deadline <= now, "two decision tasks outstanding for one process"
                    held.superseded = True
            self.model.decisions.append(HeldDecision(task, now))

        @rule(index=st.integers(0, 50), choice=st.sampled_from(DECISIONS), n=st.integers(0, 9))
        def complete_decision(self, index: int, choice: str, n: int) -> None:
            held = self.pick(self.model.decisions, index)
            if held is None:
                return
            self.model.decisions.remove(held)
            decisions = self.decisions_for(choice, held.task, n)
            try:
                self.manager.complete_task(held.task, decisions)
            except UnknownDecisionException:
                return
            assert not held.superseded, "a superseded decision task was accepted"
            parent_id = held.task.process.id
            run = self.model.runs.get(parent_id, 0)
            for decision in decisions:
                if isinstance(decision, StartChildProcess):
                    child_id = decision.process.id
                    self.model.process_ids.append(child_id)
                    self.model.children[child_id] = (parent_id, decision.child_policy, run)
                elif isinstance(decision, ContinueAsNew):
                    self.model.runs[parent_id] = run + 1
            timeout = timedelta(seconds=PropWorkflow.decision_timeout)
            assert self.clock() < held.claimed_at + timeout, "a timed-out decision was accepted"

        @rule(index=st.integers(0, 50))
        def fail_decision(self, index: int) -> None:
            held = self.pick(self.model.decisions, index)
            if held is None:
                return
            self.model.decisions.remove(held)
            try:
                self.manager.fail_decision(held.task, "decider broke", "traceback")
            except UnknownDecisionException:
                return
            assert not held.superseded, "a superseded decision task was failed"
            assert self.process(held.task.process.id).history[-1].type == "decision_failed"

        # -- what activity workers do ------------------------------------------------------

        @rule()
        def poll_activity(self) -> None:
            task = self.manager.next_activity()
            if task is None:
                return
            key = (task.process_id, task.activity_execution.id)
            assert key not in self.model.claimed_activities, "an activity was handed out twice"
            self.model.claimed_activities.add(key)
            assert self.process(task.process_id).is_open, "a closed process got an activity task"
            self.model.activities.append(task)

        @rule(index=st.integers(0, 50), outcome=st.sampled_from(["done", "failed", "canceled"]))
        def complete_activity(self, index: int, outcome: str) -> None:
            task = self.pick(self.model.activities, index)
            if task is None:
                return
            self.model.activities.remove(task)
            result = {
                "done": task.activity_execution.input,
                "failed": ActivityFailed("broke"),
                "canceled": ActivityCanceled("stopped"),
            }[outcome]
            try:
                self.manager.complete_task(task, result)
            except UnknownActivityException:
                return
            last = self.process(task.process_id).history[-1]
            assert isinstance(last, ActivityEvent)
            assert last.activity_execution == task.activity_execution

        @rule(index=st.integers(0, 50))
        def heartbeat(self, index: int) -> None:
            task = self.pick(self.model.activities, index)
            if task is None:
                return
            try:
                cancel_requested = self.manager.heartbeat(task)
            except UnknownActivityException:
                self.model.activities.remove(task)
                return
            if cancel_requested:
                history = self.process(task.process_id).history
                assert any(
                    event.type == "decision"
                    and event.decision == CancelActivity(task.activity_execution.id)
                    for event in history
                )

        # -- invariants --------------------------------------------------------------------

        @invariant()
        def closed_processes_stay_as_they_closed(self) -> None:
            for process_id in self.model.process_ids:
                process = self.process(process_id)
                if process.is_open:
                    assert process_id not in self.model.closed_histories
                    continue
                before = self.model.closed_histories.setdefault(process_id, process.history)
                assert process.history == before, "a closed process got new events"
                assert process.result is not None and process.result.status == process.status

        @invariant()
        def terminate_policy_children_close_with_their_parent(self) -> None:
            for child_id, (parent_id, policy, _) in self.model.children.items():
                if policy == "TERMINATE" and not self.process(parent_id).is_open:
                    assert not self.process(child_id).is_open

        @invariant()
        def parents_hear_of_children_that_closed(self) -> None:
            for child_id, (parent_id, _, run) in self.model.children.items():
                child, parent = self.process(child_id), self.process(parent_id)
                if child.is_open or not parent.is_open or self.model.runs.get(parent_id, 0) != run:
                    continue
                heard = [
                    event.result
                    for event in parent.history
                    if event.type == "child_process" and event.process_id == child_id
                ]
                assert heard == [child.result], "a parent did not hear of its child closing"

        @invariant()
        def each_activity_has_at_most_one_result(self) -> None:
            for process_id in self.model.process_ids:
                process = self.process(process_id)
                assert all(count <= 1 for count in activity_results(process).values())
                rejected = [e.decision for e in process.history if e.type == "decision_rejected"]
            assert not any(isinstance(decision, ScheduleActivity) for decision in rejected)

        def teardown(self) -> None:
            try:
                self.check_settled()
            finally:
                # Examples are many: each backend's connections go as its example ends.
                self.manager.backend.close()

        def check_settled(self) -> None:
            # Let every deadline pass: open work must have ended, and every process
            # with something new to see must get exactly one decision task.
            self.clock.advance(SETTLE)
            processes = [self.process(process_id) for process_id in self.model.process_ids]
            waiting = {p.id for p in processes if p.is_open and needs_a_decision(p)}
            for process in processes:
                counts = activity_results(process)
                if process.is_open:
                    assert all(count == 1 for count in counts.values()), counts
            offered = []
            while (task := self.manager.next_decision()) is not None:
                offered.append(task.process.id)
            assert len(offered) == len(set(offered)), "two decision tasks for one process"
            assert waiting <= set(offered), "a decision was dropped"
            assert set(offered) <= {p.id for p in processes if p.is_open}
            assert self.manager.next_activity() is None

    return WorkflowMachine


@pytest.mark.needs("cancel_activity", "request_cancel")
def test_random_interleavings_keep_the_invariants(backend_factory):
    run_state_machine_as_test(
        make_machine(backend_factory),
        settings=settings(
            # raise it for a deeper search: PYWORKFLOW_PROPERTY_EXAMPLES=5000 pytest ...
            max_examples=int(os.environ.get("PYWORKFLOW_PROPERTY_EXAMPLES", "75")),
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
