"""SWF features beyond the seed example, run by worker threads on the backend's own
background polls against moto's server over HTTP, in real time (short timers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCompleted, ActivityFailed
from pyworkflow.backend.amazonswf import AmazonSWFBackend
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.decision import (
    CancelTimer,
    CompleteProcess,
    RecordMarker,
    ScheduleActivity,
    Timer,
)
from pyworkflow.events import DecisionEvent, DecisionFailedEvent, SignalEvent, TimerEvent
from pyworkflow.exceptions import ProcessClosedException, UnknownProcessException
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.retry import RetryPolicy
from pyworkflow.signal import Signal
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow.workflow import Workflow

from .swf_server import moto_server, swf_backend
from .test_amazonswf import wait_closed


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def backend(endpoint: str) -> Iterator[AmazonSWFBackend]:
    with swf_backend(endpoint) as backend:
        yield backend


@contextmanager
def workers(manager: Manager) -> Iterator[Manager]:
    threads = [WorkerThread(ActivityWorker(manager)), WorkerThread(DecisionWorker(manager))]
    for thread in threads:
        thread.start()
    try:
        yield manager
    finally:
        for thread in threads:
            thread.join(10)
            assert not thread.is_alive()


def run(backend: Any, workflow: type[Workflow], input: Any = None, during=None) -> Process:
    """Start one process of ``workflow`` under worker threads; return it closed.
    ``during(manager, process_id)`` runs while the process is open."""
    with workers(Manager(backend, workflows=[workflow])) as manager:
        process_id = manager.start_process(Process(workflow=workflow, input=input))
        if during is not None:
            during(manager, process_id)
        return wait_closed(manager, process_id)


def decisions(process: Process) -> list[Any]:
    return [event.decision for event in process.history if isinstance(event, DecisionEvent)]


# -- a decider that raises: fail_decision_task -----------------------------------------------


class RaisesOnceWorkflow(Workflow):
    def decide(self, process: Process) -> Any:
        failed = [e for e in process.history if isinstance(e, DecisionFailedEvent)]
        if not failed:
            raise ValueError("boom")
        return CompleteProcess(len(failed))


def test_a_raising_decider_is_recorded_and_the_task_offered_again(backend) -> None:
    process = run(backend, RaisesOnceWorkflow)
    assert process.result == ProcessCompleted(1)
    [failed] = [e for e in process.history if isinstance(e, DecisionFailedEvent)]
    assert failed.reason == "ValueError: boom"
    assert "Traceback" in failed.details
    # The retry timer is the backend's own: the decider never sees it as a timer.
    assert [event.type for event in process.history] == [
        "process_started",
        "decision_started",
        "decision_failed",
        "decision_started",
        "decision",
    ]


# -- signals ------------------------------------------------------------------------------


class WaitsForSignalWorkflow(Workflow):
    def decide(self, process: Process) -> Any:
        for event in process.unseen_events():
            if isinstance(event, SignalEvent):
                return CompleteProcess(event.signal.data)
        return None


def test_a_signal_reaches_the_decider(backend) -> None:
    def signal(manager: Manager, process_id: str) -> None:
        time.sleep(0.5)
        manager.signal_process(process_id, Signal("approve", {"by": "ann"}))

    process = run(backend, WaitsForSignalWorkflow, during=signal)
    assert process.result == ProcessCompleted({"by": "ann"})
    assert SignalEvent(Signal("approve", {"by": "ann"})) in process.history


# -- timers, CancelTimer, markers ---------------------------------------------------------


class TimersWorkflow(Workflow):
    """Sets a long and a short timer; when the short fires, cancels the long one and
    records a marker; completes with the timers it saw fire."""

    def decide(self, process: Process) -> Any:
        fired = [e.timer.id for e in process.history if isinstance(e, TimerEvent)]
        if len(process.history) == 2:
            return [Timer(600, id="long"), Timer(1, data={"n": 1}, id="short")]
        if fired == ["short"]:
            return [
                CancelTimer("long"),
                RecordMarker("checkpoint", {"fired": fired}),
                Timer(1, id="last"),
            ]
        if fired == ["short", "last"]:
            return CompleteProcess(fired)
        return None


def test_timers_fire_cancel_and_markers_record(backend) -> None:
    process = run(backend, TimersWorkflow)
    assert process.result == ProcessCompleted(["short", "last"])
    fired = [e for e in process.history if isinstance(e, TimerEvent)]
    assert [e.timer for e in fired] == [Timer(1, data={"n": 1}, id="short"), Timer(1, id="last")]
    assert RecordMarker("checkpoint", {"fired": ["short"]}) in decisions(process)
    # moto names the event TimerCancelled with attributes the SWF model lacks, so
    # botocore drops them: the cancel reads as no event (its request and SWF's
    # TimerCanceled are checked in tests/test_swf_requests.py), never as a failure.
    assert not any(e.type == "decision_rejected" for e in process.history)


# -- retries ------------------------------------------------------------------------------

ATTEMPTS: list[int] = []


class FailsTwiceActivity(Activity):
    retry = RetryPolicy(max_attempts=3, initial_interval=1, backoff_coefficient=1)

    def execute(self) -> Any:
        ATTEMPTS.append(len(ATTEMPTS) + 1)
        if len(ATTEMPTS) < 3:
            raise RuntimeError(f"attempt {len(ATTEMPTS)}")
        return len(ATTEMPTS)


class RetriedWorkflow(Workflow):
    activities = [FailsTwiceActivity]

    def decide(self, process: Process) -> Any:
        outcomes = [e.result for e in process.history if e.type == "activity"]
        if outcomes:
            return CompleteProcess([type(r).__name__ for r in outcomes] + [outcomes[-1].result])
        if len(process.history) == 2:
            return ScheduleActivity(FailsTwiceActivity, id="flaky")
        return None


def test_a_retried_activity_fails_twice_and_the_decider_sees_only_the_success(backend) -> None:
    ATTEMPTS.clear()
    process = run(backend, RetriedWorkflow)
    assert ATTEMPTS == [1, 2, 3]
    assert process.result == ProcessCompleted(["ActivityCompleted", 3])
    # SWF's history holds every attempt; the decider saw only the last (above).
    attempts = [e.result for e in process.history if e.type == "activity"]
    assert [type(result) for result in attempts] == [
        ActivityFailed,
        ActivityFailed,
        ActivityCompleted,
    ]
    assert [result.reason for result in attempts[:2]] == [
        "attempt 1",
        "attempt 2",
    ]
    assert attempts[-1] == ActivityCompleted(3)


# -- BlinkerBackend over SWF --------------------------------------------------------------


class EchoActivity(Activity):
    def execute(self) -> Any:
        return self.input


class EchoWorkflow(Workflow):
    activities = [EchoActivity]

    def decide(self, process: Process) -> Any:
        done = [e.result for e in process.history if e.type == "activity"]
        if done:
            return CompleteProcess(done[0].result)
        if len(process.history) == 2:
            return ScheduleActivity(EchoActivity, id="echo", input=process.input)
        return None


def test_blinker_over_swf_announces_the_run(backend) -> None:
    blinker = BlinkerBackend(backend)
    heard: list[tuple[str, dict[str, Any]]] = []
    names = [
        "on_process_started",
        "on_decision_started",
        "on_activity_scheduled",
        "on_activity_started",
        "on_activity_completed",
        "on_process_completed",
    ]
    for name in names:
        getattr(blinker, name).connect(
            lambda sender, _name=name, **kwargs: heard.append((_name, kwargs)), weak=False
        )
    process = run(blinker, EchoWorkflow, input="hello")
    assert process.result == ProcessCompleted("hello")
    assert {name for name, _ in heard} == set(names)
    [completed] = [kwargs for name, kwargs in heard if name == "on_process_completed"]
    assert completed["result"] == "hello"
    assert {kwargs["process_id"] for _, kwargs in heard} == {process.id}


# -- steering a closed or unknown process -----------------------------------------------


def test_a_closed_process_refuses_signals_and_cancels_an_unknown_one_is_unknown(backend) -> None:
    """SWF answers UnknownResourceFault to both; the backend tells them apart."""
    process = run(backend, RaisesOnceWorkflow)
    manager = Manager(backend, workflows=[RaisesOnceWorkflow])
    with pytest.raises(ProcessClosedException):
        manager.signal_process(process.id, Signal("late"))
    with pytest.raises(ProcessClosedException):
        manager.cancel_process(process.id)
    with pytest.raises(UnknownProcessException):
        manager.signal_process("nope", Signal("late"))
    assert manager.process_by_id(process.id).status == "completed"


def test_a_canceled_process_is_listed_as_canceled_though_swf_terminated_it(backend) -> None:
    """cancel_process closes at once, which SWF can only do by terminating."""
    manager = Manager(backend, workflows=[RaisesOnceWorkflow])
    canceled = manager.start_process(Process(workflow=RaisesOnceWorkflow))
    terminated = manager.start_process(Process(workflow=RaisesOnceWorkflow))
    manager.cancel_process(canceled)
    manager.terminate_process(terminated, reason="by hand")

    assert [p.id for p in manager.processes(status="canceled")] == [canceled]
    assert [p.id for p in manager.processes(status="terminated")] == [terminated]
    assert {p.id: p.status for p in manager.processes(status="closed")} == {
        canceled: "canceled",
        terminated: "terminated",
    }
