"""A decider may not close a process over events it has not seen (SWF's UNHANDLED_DECISION)."""

from __future__ import annotations

import pytest

from pyworkflow.decision import CompleteProcess
from pyworkflow.events import DecisionRejectedEvent, SignalEvent
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.signal import Signal
from pyworkflow.workflow import Workflow


class QuickWorkflow(Workflow):
    def decide(self, process):
        return CompleteProcess("done")


@pytest.mark.needs("unhandled_decision")
def test_a_signal_during_the_decision_keeps_the_process_open_for_another_look(backend):
    manager = Manager(backend, [QuickWorkflow])
    process_id = manager.start_process(Process(workflow=QuickWorkflow))
    task = manager.next_decision()
    manager.signal_process(process_id, Signal("late", {"n": 1}))
    manager.complete_task(task, CompleteProcess("done"))

    process = manager.process_by_id(process_id)
    assert process.is_open
    assert process.history[-1] == DecisionRejectedEvent(
        CompleteProcess("done"), "new events arrived while deciding; decide again before closing"
    )

    again = manager.next_decision()
    assert SignalEvent(Signal("late", {"n": 1})) in again.process.unseen_events()
    manager.complete_task(again, CompleteProcess("done"))
    assert manager.process_by_id(process_id).result == ProcessCompleted("done")
