"""A closed process gets no tasks and no events, whatever was still in flight."""

from __future__ import annotations

import pytest

from pyworkflow.decision import (
    CompleteProcess,
    FailProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from pyworkflow.exceptions import (
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
)
from pyworkflow.process import Process
from pyworkflow.signal import Signal

from .support import (
    EchoActivity,
    ManualWorkflow,
    ShortWorkflow,
    decide,
    no_tasks,
    start,
    take_activity,
    take_decision,
)


def busy_process(manager) -> tuple[str, object, object]:
    """A process with a running and a queued activity, a timer, an abandoned child,
    and a decision task in hand."""
    process_id = start(manager)
    decide(
        manager,
        ScheduleActivity(EchoActivity, id="running", input=1),
        ScheduleActivity(EchoActivity, id="queued", input=2),
        Timer(10, id="timer"),
        StartChildProcess(Process(workflow=ManualWorkflow, id="kid"), child_policy="ABANDON"),
    )
    decide(manager, process_id="kid")
    running = take_activity(manager)
    manager.signal_process(process_id, Signal("wake"))
    in_hand = take_decision(manager, process_id)
    return process_id, running, in_hand


@pytest.mark.parametrize("how", ["cancel", "terminate", "timeout"])
def test_nothing_reaches_a_process_closed_from_outside(manager, clock, how):
    process_id, running, in_hand = busy_process(manager)
    if how == "cancel":
        manager.cancel_process(process_id)
    elif how == "terminate":
        manager.terminate_process(process_id, "ops")
    else:
        clock.advance(ManualWorkflow.timeout)
    closed = manager.process_by_id(process_id)
    assert not closed.is_open

    with pytest.raises(UnknownDecisionException):
        manager.complete_task(in_hand, CompleteProcess())
    with pytest.raises(UnknownActivityException):
        manager.heartbeat(running)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(running, 1)
    with pytest.raises(ProcessClosedException):
        manager.signal_process(process_id, Signal("late"))
    if how != "timeout":  # the abandoned child timed out along with its parent
        manager.signal_process("kid", Signal("finish"))
        decide(manager, CompleteProcess("kid done"), process_id="kid")
    clock.advance(ManualWorkflow.timeout * 2)

    assert no_tasks(manager)
    assert manager.process_by_id(process_id) == closed
    assert manager.process_by_id(process_id).status == closed.status


@pytest.mark.parametrize("closing", [CompleteProcess("done"), FailProcess("no")])
def test_nothing_reaches_a_process_closed_by_its_decider(manager, clock, closing):
    process_id = start(manager, workflow=ShortWorkflow)
    decide(manager, ScheduleActivity(EchoActivity, id="a", input=1), Timer(5, id="t"))
    running = take_activity(manager)
    manager.signal_process(process_id, Signal("close now"))
    decide(manager, closing, process_id=process_id)
    closed = manager.process_by_id(process_id)

    other = start(manager)
    decide(manager, SignalProcess(process_id, "late"), process_id=other)
    with pytest.raises(UnknownActivityException):
        manager.complete_task(running, 1)
    clock.advance(ShortWorkflow.timeout * 2)
    take_decision(manager, other)  # told its signal was rejected
    assert manager.next_decision() is None
    assert manager.process_by_id(process_id) == closed
    assert manager.process_by_id(process_id).status == closed.status
