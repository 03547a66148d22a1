"""What DefaultWorkflow and RuleSetWorkflow do for their users beyond dispatch."""

from __future__ import annotations

from typing import Any

import pytest

from pyworkflow import rules
from pyworkflow.activity import Activity, ActivityCanceled
from pyworkflow.decision import CompleteProcess, RecordMarker
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCanceled, ProcessCompleted
from pyworkflow.testing import run_until_idle
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import DefaultWorkflow, RuleSetWorkflow


class WaitingWorkflow(DefaultWorkflow):
    def initiate(self, process: Process) -> Any:
        return RecordMarker("waiting")


@pytest.mark.needs("request_cancel")
def test_default_workflow_agrees_to_a_cancel_request(backend):
    manager = Manager(backend, [WaitingWorkflow])
    process_id = manager.start_process(Process(workflow=WaitingWorkflow))
    run_until_idle(manager)
    manager.request_cancel_process(process_id, "no longer needed")
    run_until_idle(manager)
    assert manager.process_by_id(process_id).result == ProcessCanceled("no longer needed")


class CloseFirstWorkflow(RuleSetWorkflow):
    @rules.process_started
    def done(self, event: Any, process: Process) -> Any:
        return CompleteProcess("finished")

    @rules.process_started
    def note(self, event: Any, process: Process) -> Any:
        return RecordMarker("noted")


def test_a_closing_rule_defined_first_is_applied_last(backend):
    manager = Manager(backend, [CloseFirstWorkflow])
    process_id = manager.start_process(Process(workflow=CloseFirstWorkflow))
    run_until_idle(manager)
    process = manager.process_by_id(process_id)
    assert process.result == ProcessCompleted("finished")
    decided = [event.decision for event in process.history if event.type == "decision"]
    assert decided == [RecordMarker("noted"), CompleteProcess("finished")]


class PoliteWorkflow(RuleSetWorkflow):
    @rules.process_started
    def wait(self, event: Any, process: Process) -> Any:
        return RecordMarker("waiting")

    @rules.cancel_requested()
    def leave(self, event: Any, process: Process) -> Any:
        return CompleteProcess({"left_because": event.details})


@pytest.mark.needs("request_cancel")
def test_the_cancel_requested_rule_lets_a_workflow_choose_its_ending(backend):
    manager = Manager(backend, [PoliteWorkflow])
    process_id = manager.start_process(Process(workflow=PoliteWorkflow))
    run_until_idle(manager)
    manager.request_cancel_process(process_id, "shutdown")
    run_until_idle(manager)
    assert manager.process_by_id(process_id).result == ProcessCompleted(
        {"left_because": "shutdown"}
    )


class CleanupActivity(Activity):
    cleaned_up: list[Any] = []

    def execute(self) -> Any:
        try:
            self.heartbeat()
        except ActivityCanceled as stop:
            CleanupActivity.cleaned_up.append(stop.details)
            raise
        return "unreached"


class CleanupWorkflow(DefaultWorkflow):
    activities = [CleanupActivity]

    def initiate(self, process: Process) -> Any:
        return CleanupActivity


@pytest.mark.needs("activity_canceled")
def test_a_heartbeat_after_the_process_closed_stops_the_activity_like_a_cancel(backend):
    manager = Manager(backend, [CleanupWorkflow])
    process_id = manager.start_process(Process(workflow=CleanupWorkflow))
    DecisionWorker(manager).step()  # the first decision schedules the activity
    task = manager.next_activity()
    manager.cancel_process(process_id)

    CleanupActivity.cleaned_up.clear()
    ActivityWorker(manager).handle(task)

    [details] = CleanupActivity.cleaned_up
    assert details.startswith("task is no longer open")
    assert manager.process_by_id(process_id).result == ProcessCanceled()
