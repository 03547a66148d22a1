"""Real worker processes on one SQLite file or PostgreSQL database: killed workers
lose only their attempt, and many workers never run one attempt twice."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pyworkflow.activity import ActivityCompleted, ActivityTimedOut
from pyworkflow.process import Process, ProcessCompleted

from .postgres_db import DATABASE
from .process_harness import (
    WAIT_LIMIT,
    Workers,
    attempts,
    run_pairs_on_six_workers,
    wait_closed,
    wait_for_file,
)
from .worker_processes import (
    ResilientPairWorkflow,
    RetryWorkflow,
    StallWorkflow,
    manager_for,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")


# Processes the six-worker test runs, on each backend.
MANY = {"sqlite": 2000, "postgres": 500}


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {"type": "sqlite", "path": str(tmp_path / "pyworkflow.sqlite3")}
        return
    dsn, schema = DATABASE.dsn(), DATABASE.new_schema_name()
    try:
        yield {"type": "postgres", "dsn": dsn, "schema": schema}
    finally:
        DATABASE.drop_schemas([schema])


def open_runs(db: dict[str, str]) -> int:
    """How many runs are open, counted in SQL: cheap enough to ask ten times a second."""
    query = "SELECT COUNT(*) FROM {}runs WHERE status = 'open'"
    if db["type"] == "sqlite":
        with sqlite3.connect(db["path"]) as connection:
            count = connection.execute(query.format("")).fetchone()[0]
        connection.close()
        return int(count)
    with psycopg.connect(db["dsn"]) as connection:
        schema = sql.Identifier(db["schema"])
        row = connection.execute(sql.SQL(query).format(sql.SQL("{}.").format(schema))).fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    return directory


@pytest.fixture
def workers(db: dict[str, str], log_dir: Path) -> Iterator[Workers]:
    manager_for(db).backend.close()  # create the schema before workers race to
    started = Workers(db, log_dir)
    yield started
    started.stop_all()


def test_activity_worker_killed_mid_task_times_out_and_the_process_finishes(
    db: dict[str, str], log_dir: Path, workers: Workers
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
    db: dict[str, str], log_dir: Path, workers: Workers
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


def test_six_worker_processes_run_many_processes_each_attempt_once(
    db: dict[str, str], log_dir: Path, workers: Workers
) -> None:
    manager = manager_for(db)
    run_pairs_on_six_workers(manager, workers, log_dir, MANY[db["type"]], lambda: open_runs(db))
    manager.backend.close()


def test_workers_killed_again_and_again_lose_only_the_attempts_they_held(
    db: dict[str, str], log_dir: Path, workers: Workers
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
