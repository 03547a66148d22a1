"""What production does to a PostgreSQL worker: connections killed under it,
workers starting together on an empty database, a server that stops answering.
Each test has a database of its own, so killing connections hurts nobody else."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCompleted
from pyworkflow.backend.postgres import ANSWER_GRACE, PostgresBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.events import ActivityEvent, DecisionEvent, DecisionFailedEvent
from pyworkflow.exceptions import BackendConfigurationError
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow.workflow import Workflow

from .faults import StallingProxy, own_database, terminate_connections, with_application_name
from .support import wait_until


class Gate:
    """Holds a task at a point the test chooses: the task calls ``reached()``, the
    test waits for that, does its harm, and ``release()``s it."""

    def __init__(self) -> None:
        self._reached = threading.Event()
        self._released = threading.Event()
        self.runs = 0
        self._lock = threading.Lock()

    def reached(self) -> None:
        with self._lock:
            self.runs += 1
        self._reached.set()
        assert self._released.wait(60), "the test never released the gate"

    def wait(self) -> None:
        assert self._reached.wait(60), "the task never reached the gate"

    def release(self) -> None:
        self._released.set()


ACTIVITY_GATE = Gate()
DECISION_GATE = Gate()


class GatedActivity(Activity):
    """Stops at the activity gate; heartbeats after it when its input says so."""

    heartbeat_timeout = 60

    def execute(self) -> Any:
        ACTIVITY_GATE.reached()
        if self.input.get("heartbeat"):
            for _ in range(3):
                self.heartbeat()
        return {"answer": 42}


class GatedWorkflow(Workflow):
    """Runs GatedActivity once and completes with its result; its first decision
    after the activity stops at the decision gate when the input asks for that."""

    activities = [GatedActivity]
    decision_timeout = 60

    def decide(self, process: Process) -> Any:
        results = [event.result for event in process.history if isinstance(event, ActivityEvent)]
        if not results:
            return GatedActivity
        if process.input.get("gate_decision"):
            DECISION_GATE.reached()
        assert isinstance(results[-1], ActivityCompleted)
        return CompleteProcess(results[-1].result)


class OneActivity(Activity):
    def execute(self) -> Any:
        return self.input


class OneActivityWorkflow(Workflow):
    activities = [OneActivity]

    def decide(self, process: Process) -> Any:
        done = [event.result for event in process.history if isinstance(event, ActivityEvent)]
        return CompleteProcess(done[-1].result) if done else OneActivity


@pytest.fixture
def dsn() -> Iterator[str]:
    with own_database() as dsn:
        yield dsn


@pytest.fixture(autouse=True)
def fresh_gates() -> None:
    for gate in (ACTIVITY_GATE, DECISION_GATE):
        gate.__init__()  # type: ignore[misc]


def _run_workers(backend: PostgresBackend, *workers: Any) -> list[WorkerThread]:
    threads = [WorkerThread(worker) for worker in workers]
    for thread in threads:
        thread.start()
    return threads


def _nothing_failed(process: Process) -> None:
    for event in process.history:
        assert not isinstance(event, DecisionFailedEvent), event
        if isinstance(event, ActivityEvent):
            assert isinstance(event.result, ActivityCompleted), event


def test_four_workers_starting_at_once_on_an_empty_database_all_run(dsn):
    barrier = threading.Barrier(4)
    opened: list[PostgresBackend] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_backend() -> None:
        barrier.wait()
        try:
            backend = PostgresBackend(dsn)
        except BaseException as error:
            with lock:
                errors.append(error)
            return
        with lock:
            opened.append(backend)

    threads = [threading.Thread(target=open_backend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(opened) == 4
        workers: list[WorkerThread] = []
        ids = []
        for number, backend in enumerate(opened):
            manager = Manager(backend, workflows=[OneActivityWorkflow])
            ids.append(manager.start_process(Process(OneActivityWorkflow, input=number)))
            workers += _run_workers(backend, DecisionWorker(manager), ActivityWorker(manager))
        manager = Manager(opened[0], workflows=[OneActivityWorkflow])
        try:
            for number, process_id in enumerate(ids):
                process = wait_until(lambda pid=process_id: _closed(manager, pid), timeout=30)
                assert process.result.result == number
        finally:
            for worker in workers:
                worker.join()
    finally:
        for backend in opened:
            backend.close()


def _closed(manager: Manager, process_id: str) -> Process | None:
    process = manager.process_by_id(process_id)
    return None if process.is_open else process


def _result_when_closed(manager: Manager, process_id: str) -> Any:
    process = wait_until(lambda: _closed(manager, process_id), timeout=30)
    return process.result.result


@pytest.mark.parametrize("heartbeat", [False, True], ids=["no-heartbeat", "heartbeat"])
def test_activity_worker_connections_killed_mid_activity_lose_nothing(dsn, heartbeat, caplog):
    caplog.set_level(logging.INFO, logger="pyworkflow")
    activity_dsn = with_application_name(dsn, "pw-activity-worker")
    with PostgresBackend(dsn) as backend, PostgresBackend(activity_dsn) as activity_backend:
        manager = Manager(backend, workflows=[GatedWorkflow])
        activity_manager = Manager(activity_backend, workflows=[GatedWorkflow])
        process_id = manager.start_process(Process(GatedWorkflow, input={"heartbeat": heartbeat}))
        threads = _run_workers(
            backend, DecisionWorker(manager), ActivityWorker(activity_manager, name="acts")
        )
        try:
            ACTIVITY_GATE.wait()
            assert terminate_connections(dsn, "pw-activity-worker") >= 1
            ACTIVITY_GATE.release()
            process = wait_until(lambda: _closed(manager, process_id), timeout=30)
        finally:
            for thread in threads:
                thread.join()
    assert process.result.result == {"answer": 42}
    assert ACTIVITY_GATE.runs == 1
    _nothing_failed(process)
    assert [e for e in process.history if isinstance(e, ActivityEvent)] != []
    # The blip was seen and ridden out, with the task named in what was logged.
    retried = [r for r in caplog.records if "not recorded" in r.getMessage()]
    assert retried, "the killed connection was never noticed"
    assert all(getattr(r, "process_id", None) == process_id for r in retried)
    assert not [r for r in caplog.records if r.getMessage() == "activity failed"]


def test_decision_worker_connections_killed_mid_decision_lose_nothing(dsn, caplog):
    caplog.set_level(logging.INFO, logger="pyworkflow")
    decision_dsn = with_application_name(dsn, "pw-decision-worker")
    with PostgresBackend(dsn) as backend, PostgresBackend(decision_dsn) as decision_backend:
        manager = Manager(backend, workflows=[GatedWorkflow])
        decision_manager = Manager(decision_backend, workflows=[GatedWorkflow])
        process_id = manager.start_process(Process(GatedWorkflow, input={"gate_decision": True}))
        threads = _run_workers(backend, DecisionWorker(decision_manager), ActivityWorker(manager))
        try:
            ACTIVITY_GATE.release()
            DECISION_GATE.wait()
            assert terminate_connections(dsn, "pw-decision-worker") >= 1
            DECISION_GATE.release()
            process = wait_until(lambda: _closed(manager, process_id), timeout=30)
        finally:
            for thread in threads:
                thread.join()
    assert process.result.result == {"answer": 42}
    assert DECISION_GATE.runs == 1
    _nothing_failed(process)
    completions = [
        event
        for event in process.history
        if isinstance(event, DecisionEvent) and event.decision.type == "complete_process"
    ]
    assert len(completions) == 1
    assert [r for r in caplog.records if "decisions not recorded yet" in r.getMessage()]


def test_a_server_that_stops_answering_is_noticed_and_survived(dsn, caplog):
    caplog.set_level(logging.INFO, logger="pyworkflow")
    statement_timeout = 1.0
    proxy = StallingProxy()
    try:
        with (
            PostgresBackend(dsn) as direct,
            PostgresBackend(
                proxy.dsn(dsn), statement_timeout=statement_timeout, connect_timeout=1
            ) as proxied,
        ):
            manager = Manager(direct, workflows=[OneActivityWorkflow])
            proxied_manager = Manager(proxied, workflows=[OneActivityWorkflow])
            threads = _run_workers(
                proxied, DecisionWorker(proxied_manager), ActivityWorker(proxied_manager)
            )
            try:
                first = manager.start_process(Process(OneActivityWorkflow, input="before"))
                assert _result_when_closed(manager, first) == "before"
                proxy.stall()
                unanswered = wait_until(
                    lambda: [r for r in caplog.records if "no answer from the server" in r.msg],
                    timeout=30,
                )
                assert unanswered[0].levelno == logging.ERROR
                assert unanswered[0].waited_s == statement_timeout + ANSWER_GRACE
                # The worker says so too, and keeps going rather than hanging.
                wait_until(
                    lambda: [r for r in caplog.records if r.getMessage().startswith("poll failed")],
                    timeout=30,
                )
                proxy.resume()
                second = manager.start_process(Process(OneActivityWorkflow, input="after"))
                assert _result_when_closed(manager, second) == "after"
            finally:
                for thread in threads:
                    thread.join()
    finally:
        proxy.close()


def test_the_server_enforces_the_statement_timeout_and_keepalives_are_on(dsn):
    with PostgresBackend(dsn, statement_timeout=2.5, keepalives_idle=4) as backend:
        connection = backend.store._connection()  # type: ignore[attr-defined]
        assert connection.execute("SHOW statement_timeout").fetchone() == ("2500ms",)
        assert connection.info.get_parameters()["keepalives"] == "1"
        assert connection.info.get_parameters()["keepalives_idle"] == "4"
        connection.rollback()


def test_server_options_from_the_environment_are_kept(dsn, monkeypatch):
    """PGOPTIONS (say, set in a systemd unit) still applies beside the backend's own."""
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=7MB")
    with PostgresBackend(dsn, statement_timeout=2.5) as backend:
        connection = backend.store._connection()  # type: ignore[attr-defined]
        assert connection.execute("SHOW work_mem").fetchone() == ("7MB",)
        assert connection.execute("SHOW statement_timeout").fetchone() == ("2500ms",)
        connection.rollback()


def test_a_timeout_that_is_not_positive_is_refused(dsn):
    with pytest.raises(BackendConfigurationError, match="statement_timeout must be a positive"):
        PostgresBackend(dsn, statement_timeout=0)
