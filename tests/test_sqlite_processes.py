"""Real worker processes on one SQLite file: killed workers lose only their attempt,
and many workers never run one attempt twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyworkflow.activity import ActivityCompleted, ActivityTimedOut
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted

from .sqlite_workers import (
    PairWorkflow,
    ResilientPairWorkflow,
    RetryWorkflow,
    StallWorkflow,
    manager_for,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")

REPO = Path(__file__).resolve().parent.parent
WAIT_LIMIT = 120.0


class Workers:
    """Starts worker processes and makes sure none outlives the test."""

    def __init__(self, path: Path, log_dir: Path) -> None:
        self.path = path
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[str]] = []

    def start(self, kind: str) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYWORKFLOW_TEST_LOG_DIR=str(self.log_dir))
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.sqlite_workers", str(self.path), kind],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=(self.log_dir / f"{kind}-{len(self.running)}.stderr").open("w"),
            text=True,
        )
        self.running.append(worker)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
        return worker

    def kill(self, worker: subprocess.Popen[str]) -> None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    def stop_all(self) -> list[int | None]:
        for worker in self.running:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        codes = []
        for worker in self.running:
            try:
                codes.append(worker.wait(10))
            except subprocess.TimeoutExpired:
                worker.kill()
                codes.append(worker.wait())
        return codes


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "pyworkflow.sqlite3"


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    return directory


@pytest.fixture
def workers(db: Path, log_dir: Path) -> Iterator[Workers]:
    manager_for(db).backend.close()  # create the schema before workers race to
    started = Workers(db, log_dir)
    yield started
    started.stop_all()


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def wait_closed(manager: Manager, process_id: str) -> Process:
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        process = manager.process_by_id(process_id)
        if not process.is_open:
            return process
        assert time.monotonic() < deadline, f"process {process_id} still open"
        time.sleep(0.02)


def attempts(log_dir: Path) -> list[tuple[str, str, str]]:
    lines = []
    for log in log_dir.glob("*.log"):
        lines.extend(tuple(line.split()) for line in log.read_text().splitlines())
    return lines  # type: ignore[return-value]


def test_activity_worker_killed_mid_task_times_out_and_the_process_finishes(
    db: Path, log_dir: Path, workers: Workers
) -> None:
    manager = manager_for(db)
    workers.start("decision")
    doomed = workers.start("activity")
    process_id = manager.start_process(Process(workflow=RetryWorkflow, id="retry"))
    wait_for_file(log_dir / "activity.hanging")
    workers.kill(doomed)

    workers.start("activity")
    process = wait_closed(manager, process_id)

    assert process.result == ProcessCompleted("done")
    outcomes = [
        (event.activity_execution.id, event.result)
        for event in process.history
        if event.type == "activity"
    ]
    assert outcomes == [
        ("try-1", ActivityTimedOut("execution_timeout")),
        ("try-2", ActivityCompleted("done")),
    ]
    assert sorted(attempts(log_dir)) == [("retry", "try-1", "1"), ("retry", "try-2", "1")]
    manager.backend.close()


def test_decision_worker_killed_mid_decision_has_the_decision_reoffered(
    db: Path, log_dir: Path, workers: Workers
) -> None:
    manager = manager_for(db)
    doomed = workers.start("decision")
    process_id = manager.start_process(Process(workflow=StallWorkflow, id="stall"))
    wait_for_file(log_dir / "decision.hanging")
    workers.kill(doomed)

    workers.start("decision")
    process = wait_closed(manager, process_id)

    assert process.result == ProcessCompleted("decided after a timeout")
    assert [event.type for event in process.history] == [
        "process_started",
        "decision_started",
        "decision_timed_out",
        "decision_started",
        "decision",
    ]
    manager.backend.close()


def test_six_worker_processes_run_two_thousand_processes_each_attempt_once(
    db: Path, log_dir: Path, workers: Workers
) -> None:
    count = 2000
    for _ in range(4):
        workers.start("activity")
    for _ in range(2):
        workers.start("decision")
    manager = manager_for(db)
    for index in range(count):
        manager.start_process(Process(workflow=PairWorkflow, id=f"p{index}"))

    deadline = time.monotonic() + WAIT_LIMIT
    with sqlite3.connect(db) as connection:
        while connection.execute("SELECT COUNT(*) FROM runs WHERE status = 'open'").fetchone()[0]:
            assert time.monotonic() < deadline, "processes still open"
            time.sleep(0.1)
    connection.close()
    assert workers.stop_all() == [0] * 6

    closed = manager.processes(workflow=PairWorkflow, status="all")
    assert len(closed) == count
    assert {process.status for process in closed} == {"completed"}
    assert {process.result for process in closed} == {ProcessCompleted(2)}
    ran = attempts(log_dir)
    duplicates = [key for key, seen in Counter(ran).items() if seen > 1]
    assert duplicates == []
    assert len(ran) == 2 * count
    assert {(process_id, step) for process_id, step, _ in ran} == {
        (f"p{index}", step) for index in range(count) for step in ("first", "second")
    }
    # The work was shared: every activity worker process ran some of it.
    assert len(list(log_dir.glob("*.log"))) == 4
    manager.backend.close()


def test_workers_killed_again_and_again_lose_only_the_attempts_they_held(
    db: Path, log_dir: Path, workers: Workers
) -> None:
    count = 300
    activity_workers = [workers.start("activity") for _ in range(2)]
    decider = workers.start("decision")
    manager = manager_for(db)
    for index in range(count):
        manager.start_process(Process(workflow=ResilientPairWorkflow, id=f"r{index}"))
    for round in range(6):
        time.sleep(0.15)
        victim = activity_workers.pop(round % 2)
        workers.kill(victim)
        activity_workers.insert(round % 2, workers.start("activity"))
        if round == 2:
            workers.kill(decider)
            decider = workers.start("decision")

    deadline = time.monotonic() + WAIT_LIMIT
    while manager.processes(workflow=ResilientPairWorkflow, status="open"):
        assert time.monotonic() < deadline, "processes still open"
        time.sleep(0.1)

    closed = manager.processes(workflow=ResilientPairWorkflow, status="all")
    assert {process.result for process in closed} == {ProcessCompleted(2)}
    assert len(closed) == count
    ran = attempts(log_dir)
    assert [key for key, seen in Counter(ran).items() if seen > 1] == []
    for process in closed:
        started = [e.activity_execution.id for e in process.history if e.type == "activity_started"]
        results = {
            e.activity_execution.id: e.result for e in process.history if e.type == "activity"
        }
        # Each attempt started once, and ended once: completed, or timed out if killed.
        assert sorted(started) == sorted(results)
        assert all(
            isinstance(result, (ActivityCompleted, ActivityTimedOut)) for result in results.values()
        )
        # Every attempt that ran had been claimed, and every completed one ran once.
        logged = {step for process_id, step, _ in ran if process_id == process.id}
        completed = {step for step, result in results.items() if result.type == "completed"}
        assert completed <= logged <= set(started)
    timed_out = sum(
        isinstance(event.result, ActivityTimedOut)
        for process in closed
        for event in process.history
        if event.type == "activity"
    )
    assert timed_out >= 1  # the kills did interrupt work in hand
    manager.backend.close()
