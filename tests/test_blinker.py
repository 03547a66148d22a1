"""BlinkerBackend: signals per instance and per class, and the 2014 defects fixed."""

from __future__ import annotations

from pyworkflow.activity import ActivityFailed
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.signal import Signal
from pyworkflow.testing import run_process


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object, dict]] = []

    def listen(self, signal, name: str) -> None:
        def receiver(sender, **kwargs):
            self.calls.append((name, sender, kwargs))

        signal.connect(receiver, weak=False)

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]


SIGNALS = [
    "on_process_started",
    "on_decision_started",
    "on_complete_decision_task",
    "on_activity_scheduled",
    "on_activity_started",
    "on_activity_heartbeat",
    "on_complete_activity_task",
    "on_activity_completed",
    "on_process_completed",
]


def test_the_quickstart_emits_every_runtime_event_in_order(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    for name in SIGNALS:
        recorder.listen(getattr(backend, name), name)
    manager = Manager(backend, [FooWorkflow])

    process = run_process(manager, Process(workflow=FooWorkflow, input=[2, 3]))

    assert recorder.names == [
        "on_process_started",
        "on_decision_started",
        "on_complete_decision_task",
        "on_activity_scheduled",
        "on_activity_started",
        "on_activity_heartbeat",  # the second, moments later, is answered by the worker
        "on_complete_activity_task",
        "on_activity_completed",
        "on_decision_started",
        "on_complete_decision_task",
        "on_process_completed",
    ]
    assert all(sender is backend for _, sender, _ in recorder.calls)
    completed = recorder.calls[-1][2]
    assert completed["process_id"] == process.id and completed["result"] == 6
    started = recorder.calls[0][2]
    assert started["process"].id == started["process_id"] == process.id


def test_instance_signals_are_not_shared_but_class_signals_hear_every_instance(clock):
    first, second = (BlinkerBackend(MemoryBackend(clock=clock)) for _ in range(2))
    own, everyone = Recorder(), Recorder()
    own.listen(first.on_process_signaled, "first")
    everyone.listen(BlinkerBackend.on_process_signaled, "any")
    try:
        for backend in (first, second):
            manager = Manager(backend, [FooWorkflow])
            process_id = manager.start_process(Process(workflow=FooWorkflow, input=[1, 1]))
            manager.signal_process(process_id, Signal("poke", {"n": 1}))
    finally:
        BlinkerBackend.on_process_signaled.receivers.clear()

    assert [sender for _, sender, _ in own.calls] == [first]
    assert [sender for _, sender, _ in everyone.calls] == [first, second]
    assert own.calls[0][2]["signal"] == "poke" and own.calls[0][2]["data"] == {"n": 1}


class RateLimited(ActivityFailed):
    """A user's own result type: subclasses reach the signal of their base."""


def test_subclassed_results_reach_their_base_signal(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    recorder.listen(backend.on_activity_failed, "failed")
    manager = Manager(backend, [FooWorkflow])
    manager.start_process(Process(workflow=FooWorkflow, input=[1, 1]))
    manager.complete_task(manager.next_decision(), [FooWorkflow.activities[0]])
    task = manager.next_activity()
    manager.complete_task(task, RateLimited("slow down"))

    [(_, _, kwargs)] = recorder.calls
    assert kwargs["reason"] == "slow down"
    assert kwargs["activity_execution"] == task.activity_execution


def test_an_activity_timeout_is_announced_once_though_its_decider_fails_and_retries(clock):
    from pyworkflow.decision import ScheduleActivity

    from .support import ALL_WORKFLOWS, TimeoutsActivity, decide, start

    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    recorder.listen(backend.on_activity_timedout, "timedout")
    recorder.listen(backend.on_decision_failed, "failed")
    manager = Manager(backend, workflows=ALL_WORKFLOWS)
    start(manager)
    decide(manager, ScheduleActivity(TimeoutsActivity.name, id="slow"))
    assert manager.next_activity() is not None
    clock.advance(TimeoutsActivity.heartbeat_timeout + 1)

    seen_timeout = manager.next_decision()  # the decider sees the timeout, then fails
    assert seen_timeout is not None
    manager.fail_decision(seen_timeout, "bug in decide()")
    clock.advance(60)
    offered_again = manager.next_decision()
    assert offered_again is not None
    assert any(getattr(e, "result", None) for e in offered_again.process.unseen_events())

    assert recorder.names == ["timedout", "failed"]
    details = recorder.calls[0][2]
    assert details["activity_execution"].id == "slow"
    assert details["details"] == "heartbeat_timeout"


def test_a_decision_completion_reads_no_history(clock, monkeypatch):
    from pyworkflow.backend.memory import MemoryTransaction

    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    for name in SIGNALS:
        recorder.listen(getattr(backend, name), name)
    manager = Manager(backend, [FooWorkflow])
    manager.start_process(Process(workflow=FooWorkflow, input=[2, 3]))
    task = manager.next_decision()
    assert task is not None
    reads: list[str] = []
    history = MemoryTransaction.history
    monkeypatch.setattr(
        MemoryTransaction, "history", lambda tx, run_id: reads.append(run_id) or history(tx, run_id)
    )

    manager.complete_task(task, FooWorkflow().decide(task.process))

    assert reads == []
    assert recorder.names[-2:] == ["on_complete_decision_task", "on_activity_scheduled"]


def test_events_of_a_decision_the_rules_refused_are_not_announced(clock):
    from pyworkflow.decision import ScheduleActivity

    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    recorder.listen(backend.on_activity_scheduled, "scheduled")
    manager = Manager(backend, [FooWorkflow])
    manager.start_process(Process(workflow=FooWorkflow, input=[2, 3]))
    task = manager.next_decision()
    manager.complete_task(task, [ScheduleActivity("NoSuchActivity", id="x")])

    assert recorder.names == []
    assert manager.process_by_id(task.process.id).history[-1].type == "decision_rejected"


def test_observers_of_the_wrapper_hear_what_the_wrapped_backend_published(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    heard: list[str] = []
    backend.add_observer(lambda events: heard.extend(p.event.type for p in events))
    manager = Manager(backend, [FooWorkflow])
    run_process(manager, Process(workflow=FooWorkflow, input=[2, 3]))
    assert heard[0] == "process_started"
    assert heard.count("decision_started") == 2
    assert heard[-1] == "decision"


def test_a_task_claimed_along_a_report_is_announced_with_its_own_task(clock):
    backend = BlinkerBackend(MemoryBackend(clock=clock))
    recorder = Recorder()
    for name in ("on_decision_started", "on_complete_decision_task", "on_process_completed"):
        recorder.listen(getattr(backend, name), name)
    manager = Manager(backend, [FooWorkflow])
    first = manager.start_process(Process(workflow=FooWorkflow, id="first", input=[2, 3]))
    second = manager.start_process(Process(workflow=FooWorkflow, id="second", input=[4, 5]))
    task = manager.next_decision()
    assert task is not None and task.process.id == first
    recorder.calls.clear()

    claimed = manager.complete_and_next(task, [CompleteProcess(result="early")], "me")

    assert claimed is not None and claimed.process.id == second
    assert recorder.names == [
        "on_complete_decision_task",
        "on_process_completed",
        "on_decision_started",
    ]
    assert recorder.calls[0][2]["task"] is task
    assert recorder.calls[1][2]["process_id"] == first
    started = recorder.calls[2][2]
    assert started["task"] is claimed and started["process_id"] == second
