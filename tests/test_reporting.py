"""A finished task's result survives a passing backend failure, on every backend.

The failures are real calls to the backend that fail on the way in (nothing
recorded) or on the way back (recorded, but the answer lost), as a dropped
connection does; the databases behind them are the real ones."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCompleted
from pyworkflow.decision import CompleteProcess, ScheduleActivity
from pyworkflow.events import ActivityEvent, DecisionEvent, DecisionFailedEvent
from pyworkflow.exceptions import BackendError, BackendUnavailableError
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.reporting import is_transient
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import Workflow

from .support import decide, start


class HeartbeatingActivity(Activity):
    heartbeat_timeout = 100

    def execute(self) -> Any:
        for _ in range(3):
            self.heartbeat()
        return "beat"


class ReportWorkflow(Workflow):
    activities = [HeartbeatingActivity]
    decision_timeout = 100

    def decide(self, process: Process) -> Any:
        return CompleteProcess("decided")


def blip(backend: Any, method: str, times: int = 1, after_commit: bool = False) -> list[int]:
    """Make ``backend.<method>`` fail ``times`` times as a dropped connection would:
    before the call reaches the store, or (``after_commit``) after it was recorded.
    The list returned counts the calls."""
    original: Callable[..., Any] = getattr(backend, method)
    calls = [0]
    lock = threading.Lock()

    def flaky(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls[0] += 1
            failing = calls[0] <= times
        if failing and not after_commit:
            raise BackendUnavailableError("connection lost (server closed the connection)")
        answer = original(*args, **kwargs)
        if failing:
            raise BackendUnavailableError("connection lost while reading the answer")
        return answer

    setattr(backend, method, flaky)
    return calls


@pytest.fixture
def manager(backend):
    return Manager(backend, [ReportWorkflow])


def _fast(worker: Any) -> Any:
    worker.stop_grace = 5.0
    return worker


def _activity_events(manager: Manager, process_id: str) -> list[ActivityEvent]:
    history = manager.process_by_id(process_id).history
    return [event for event in history if isinstance(event, ActivityEvent)]


def test_the_one_definition_of_transient():
    assert is_transient(BackendUnavailableError("gone"))
    assert not is_transient(BackendError("constraint violated"))
    assert not is_transient(ValueError("bug"))


@pytest.mark.parametrize("after_commit", [False, True], ids=["lost-call", "lost-answer"])
def test_an_activity_result_survives_a_blip(manager, backend, after_commit, caplog):
    process_id = start(manager, workflow=ReportWorkflow)
    decide(manager, ScheduleActivity(HeartbeatingActivity, id="beat"))
    calls = blip(backend, "complete_activity_task", times=2, after_commit=after_commit)
    with caplog.at_level(logging.INFO, logger="pyworkflow"):
        assert _fast(ActivityWorker(manager)).run(max_tasks=1) == 1
    [event] = _activity_events(manager, process_id)
    assert event.result == ActivityCompleted("beat")
    assert calls[0] == (2 if after_commit else 3)
    outcomes = [getattr(r, "outcome", None) for r in caplog.records if hasattr(r, "outcome")]
    assert outcomes == ["completed"]
    retries = [r for r in caplog.records if "not recorded yet" in r.getMessage()]
    assert retries and all(r.activity_id == "beat" for r in retries)
    assert all(r.process_id == process_id for r in retries)


def test_a_heartbeat_that_meets_a_blip_does_not_fail_the_activity(manager, backend, caplog):
    process_id = start(manager, workflow=ReportWorkflow)
    decide(manager, ScheduleActivity(HeartbeatingActivity, id="beat"))
    blip(backend, "heartbeat_activity_task", times=1)
    with caplog.at_level(logging.INFO, logger="pyworkflow"):
        ActivityWorker(manager).run(max_tasks=1)
    [event] = _activity_events(manager, process_id)
    assert event.result == ActivityCompleted("beat")
    [logged] = [r for r in caplog.records if "heartbeat not recorded" in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.activity_id == "beat"


@pytest.mark.parametrize("after_commit", [False, True], ids=["lost-call", "lost-answer"])
def test_decisions_survive_a_blip(manager, backend, after_commit, caplog):
    process_id = start(manager, workflow=ReportWorkflow)
    blip(backend, "complete_decision_task", times=2, after_commit=after_commit)
    with caplog.at_level(logging.INFO, logger="pyworkflow"):
        assert _fast(DecisionWorker(manager)).run(max_tasks=1) == 1
    process = manager.process_by_id(process_id)
    assert process.result.result == "decided"
    history = process.history
    assert not [event for event in history if isinstance(event, DecisionFailedEvent)]
    assert len([event for event in history if isinstance(event, DecisionEvent)]) == 1
    outcomes = [r.outcome for r in caplog.records if hasattr(r, "outcome")]
    assert outcomes == ["decided"]


def test_a_stopped_worker_gives_up_on_an_unreachable_backend(manager, backend, caplog):
    start(manager, workflow=ReportWorkflow)
    decide(manager, ScheduleActivity(HeartbeatingActivity, id="beat"))
    calls = blip(backend, "complete_activity_task", times=10**9)
    worker = ActivityWorker(manager, stop_grace=0.0)
    task = manager.next_activity()
    worker.stop()
    with caplog.at_level(logging.INFO, logger="pyworkflow"):
        assert worker.handle(task) is None
    assert calls[0] == 1
    [record] = [r for r in caplog.records if r.getMessage() == "activity result not recorded"]
    assert record.levelno == logging.ERROR and record.activity_id == "beat"
