"""Signals from outside, and timers a decider sets and cancels."""

from __future__ import annotations

import pytest

from pyworkflow.decision import CancelTimer, CompleteProcess, Timer
from pyworkflow.events import DecisionEvent, SignalEvent, TimerEvent
from pyworkflow.exceptions import UnknownProcessException
from pyworkflow.signal import Signal

from .support import decide, news, no_tasks, start, take_decision


def test_a_signal_is_recorded_and_wakes_the_decider(manager):
    process_id = start(manager)
    decide(manager)
    manager.signal_process(process_id, Signal("approve", {"by": "ann"}))
    task = take_decision(manager, process_id)
    assert task.process.history[-2] == SignalEvent(Signal("approve", {"by": "ann"}))
    assert news(task.process) == [SignalEvent(Signal("approve", {"by": "ann"}))]


def test_signal_accepts_the_process_itself_and_defaults_data(manager):
    process_id = start(manager)
    decide(manager)
    manager.signal_process(manager.process_by_id(process_id), Signal("ping"))
    [event] = news(take_decision(manager, process_id).process)
    assert event.signal == Signal("ping", {})


def test_signal_to_an_unknown_process_is_refused(manager):
    with pytest.raises(UnknownProcessException):
        manager.signal_process("missing", Signal("x"))


def test_a_timer_fires_after_its_delay_and_wakes_the_decider(manager, clock):
    process_id = start(manager)
    timer = Timer(60, data={"reminder": 1}, id="remind")
    decide(manager, timer)
    clock.advance(59)
    assert manager.next_decision() is None
    clock.advance(1)
    task = take_decision(manager, process_id)
    assert news(task.process) == [TimerEvent(timer)]
    assert task.process.untriggered_timers() == []
    manager.complete_task(task, [])
    clock.advance(1000)
    assert manager.next_decision() is None  # a timer fires once


def test_timers_fire_in_due_order_within_one_wake_up(manager, clock):
    process_id = start(manager)
    late, early = Timer(20, data="late", id="late"), Timer(10, data="early", id="early")
    decide(manager, late, early)
    clock.advance(30)
    task = take_decision(manager, process_id)
    assert news(task.process) == [TimerEvent(early), TimerEvent(late)]


def test_zero_delay_timer_fires_on_the_next_poll(manager):
    process_id = start(manager)
    decide(manager, Timer(0, id="now"))
    task = take_decision(manager, process_id)
    assert news(task.process) == [TimerEvent(Timer(0, id="now"))]


def test_cancel_timer_stops_it_from_firing(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(10, id="t"))
    manager.signal_process(process_id, Signal("never mind"))
    decide(manager, CancelTimer("t"))
    clock.advance(100)
    assert manager.next_decision() is None
    history = manager.process_by_id(process_id).history
    assert history[-1] == DecisionEvent(CancelTimer("t"))
    assert "timer" not in [event.type for event in history]


def test_cancel_timer_accepts_the_timer_itself(manager, clock):
    process_id = start(manager)
    timer = Timer(10, id="t")
    decide(manager, timer)
    manager.signal_process(process_id, Signal("cancel"))
    decide(manager, CancelTimer(timer))
    clock.advance(100)
    assert manager.next_decision() is None


def test_cancel_of_an_unknown_or_fired_timer_is_rejected(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(1, id="t"))
    clock.advance(1)
    decide(manager, CancelTimer("t"), CancelTimer("never-set"))
    task = take_decision(manager, process_id)
    rejected = news(task.process)
    assert [event.type for event in rejected] == ["decision_rejected", "decision_rejected"]


def test_a_running_timer_id_cannot_be_reused(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(10, id="t", data="first"))
    manager.signal_process(process_id, Signal("again"))
    decide(manager, Timer(10, id="t", data="second"))
    [rejected] = news(take_decision(manager, process_id).process)
    assert rejected.type == "decision_rejected"


def test_a_fired_timer_id_can_be_reused(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(10, id="t", data="first"))
    clock.advance(10)
    decide(manager, Timer(10, id="t", data="second"), process_id=process_id)
    clock.advance(10)
    [event] = news(take_decision(manager, process_id).process)
    assert event == TimerEvent(Timer(10, id="t", data="second"))


def test_closing_a_process_drops_its_timers(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(10, id="t"))
    manager.cancel_process(process_id)
    before = manager.process_by_id(process_id)
    clock.advance(100)
    assert no_tasks(manager)
    assert manager.process_by_id(process_id) == before


def test_timer_set_in_the_closing_decision_never_fires(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(5, id="t"), CompleteProcess())
    clock.advance(10)
    assert no_tasks(manager)
    assert manager.process_by_id(process_id).history[-1] == DecisionEvent(CompleteProcess())


def test_timer_firing_during_a_decision_queues_the_next(manager, clock):
    process_id = start(manager)
    decide(manager, Timer(5, id="t"))
    manager.signal_process(process_id, Signal("wake"))
    task = take_decision(manager, process_id)
    clock.advance(5)
    assert manager.next_decision() is None
    manager.complete_task(task, [])
    task = take_decision(manager, process_id)
    assert news(task.process) == [TimerEvent(Timer(5, id="t"))]
