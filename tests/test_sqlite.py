"""What only the SQLite store has: a file, its schema, its settings and its indexes."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityTimedOut
from pyworkflow.backend import sqlite as sqlite_module
from pyworkflow.backend._sql import queries
from pyworkflow.backend._sql.rows import from_micros
from pyworkflow.backend.base import RUNS_CLOSED
from pyworkflow.backend.sqlite import SCHEMA_VERSION, SQLiteBackend, SQLiteStore
from pyworkflow.clock import ManualClock
from pyworkflow.codec import CodecError
from pyworkflow.decision import CompleteProcess, ScheduleActivity, Timer
from pyworkflow.events import ActivityEvent
from pyworkflow.exceptions import (
    BackendBusyError,
    BackendConfigurationError,
    BackendError,
)
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.task import Poll
from pyworkflow.worker import ActivityWorker, DecisionWorker
from pyworkflow.workflow import Workflow


def files_in(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def open_backend(path: Path, clock: ManualClock | None = None) -> SQLiteBackend:
    backend = SQLiteBackend(path, clock=clock or ManualClock())
    backend.register_workflow("Flow", decision_timeout=5)
    backend.register_activity("Step", scheduled_timeout=30, execution_timeout=10)
    return backend


# -- bad input: one clear error naming the path, and nothing written -------------------


def test_missing_directory_is_refused_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "db.sqlite3"
    with pytest.raises(BackendConfigurationError, match="directory .*nowhere does not exist") as e:
        SQLiteBackend(path)
    assert str(path) in str(e.value)
    assert "\n" not in str(e.value)
    assert not (tmp_path / "nowhere").exists()


def test_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes, certainly not a database\n" * 10)
    before = files_in(tmp_path)
    with pytest.raises(BackendConfigurationError, match="not a SQLite database") as error:
        SQLiteBackend(path)
    assert str(error.value).startswith(str(path))
    assert files_in(tmp_path) == before


def test_database_from_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE pyworkflow_schema (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO pyworkflow_schema VALUES (?)", (SCHEMA_VERSION + 1,))
    connection.close()
    before = files_in(tmp_path)
    with pytest.raises(
        BackendConfigurationError, match=f"schema version {SCHEMA_VERSION + 1} is newer"
    ) as error:
        SQLiteBackend(path)
    assert str(path) in str(error.value)
    assert files_in(tmp_path) == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()


def test_read_only_database_is_refused_for_a_worker(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    open_backend(path).close()
    path.chmod(0o444)
    before = files_in(tmp_path)
    with pytest.raises(BackendConfigurationError, match="read-only") as error:
        SQLiteBackend(path)
    assert str(path) in str(error.value)
    assert files_in(tmp_path) == before


def test_a_directory_is_not_a_database_file(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigurationError, match="is a directory"):
        SQLiteBackend(tmp_path)


def test_an_in_memory_database_is_refused_with_the_alternative() -> None:
    with pytest.raises(BackendConfigurationError, match="use MemoryBackend"):
        SQLiteBackend(":memory:")


def test_a_database_locked_too_long_is_a_busy_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    backend = SQLiteBackend(path, busy_timeout=0.05)
    backend.register_workflow("Flow")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(BackendBusyError, match="locked") as error:
            backend.start_process(Process(workflow="Flow", id="p"))
        assert str(path) in str(error.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    backend.start_process(Process(workflow="Flow", id="p"))
    assert backend.process_by_id("p").is_open
    backend.close()


# -- schema and settings ------------------------------------------------------------------


def test_schema_is_created_once_with_its_version(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    backend = open_backend(path)
    backend.start_process(Process(workflow="Flow", id="kept", input=[1, 2]))
    backend.close()

    reopened = open_backend(path)
    assert reopened.process_by_id("kept").input == [1, 2]
    reopened.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM pyworkflow_schema").fetchall() == [
            (SCHEMA_VERSION,)
        ]
    connection.close()


def test_an_older_schema_is_migrated_forward_keeping_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    backend = open_backend(path)
    backend.start_process(Process(workflow="Flow", id="kept"))
    backend.close()

    after = SCHEMA_VERSION + 1
    scripts = {
        **sqlite_module.migrations("sqlite"),
        after: "ALTER TABLE runs ADD COLUMN note TEXT;",
    }
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", after)
    monkeypatch.setattr(sqlite_module, "migrations", lambda dialect: scripts)
    upgraded = open_backend(path)
    assert upgraded.process_by_id("kept").is_open
    upgraded.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM pyworkflow_schema").fetchall() == [(after,)]
        assert connection.execute("SELECT note FROM runs").fetchall() == [(None,)]
    connection.close()


def test_a_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    open_backend(path).close()
    broken = "ALTER TABLE runs ADD COLUMN note TEXT;\nALTER TABLE nowhere ADD COLUMN x TEXT;"
    scripts = {**sqlite_module.migrations("sqlite"), SCHEMA_VERSION + 1: broken}
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(sqlite_module, "migrations", lambda dialect: scripts)
    with pytest.raises(BackendError, match="no such table: nowhere") as error:
        SQLiteBackend(path)
    assert str(path) in str(error.value)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM pyworkflow_schema").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        columns = [row[1] for row in connection.execute("PRAGMA table_info(runs)")]
        assert "note" not in columns
    connection.close()


def test_a_version_1_database_is_migrated_with_its_wake_times(tmp_path: Path) -> None:
    # A database as version 1 left it: a run whose failed decision waits for a backoff.
    path = tmp_path / "pyworkflow.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(sqlite_module.migrations("sqlite")[1])
        connection.execute("INSERT INTO pyworkflow_schema (version) VALUES (1)")
        row = {
            "run_id": "r",
            "process_id": "p",
            "workflow": "Flow",
            "category": "default",
            "decision_timeout": 60,
            "started_at": 0,
            "input": "null",
            "tags": "[]",
            "child_policy": "ABANDON",
            "status": "open",
            "timeout_at": 9_000_000,
            "decision": "scheduled",
            "decision_ready_at": 5_000_000,
            "decision_again": 0,
            "decision_failures": 1,
            "decision_attempts": 1,
            "due_at": 9_000_000,
        }
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        connection.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", list(row.values()))
    connection.close()

    store = SQLiteStore(path)
    assert store.next_due_at() == from_micros(5_000_000)
    store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT wake_at FROM runs").fetchall() == [(5_000_000,)]
    connection.close()


def test_stores_opening_a_new_file_at_once_create_the_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    errors: list[BaseException] = []
    stores: list[SQLiteStore] = []

    def open_store() -> None:
        try:
            stores.append(SQLiteStore(path))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM pyworkflow_schema").fetchone() == (1,)
    connection.close()


def test_connection_uses_wal_and_the_documented_synchronous_setting(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "pyworkflow.sqlite3")
    connection = store._connection()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    store.close()


def test_unknown_synchronous_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendConfigurationError, match="synchronous must be one of"):
        SQLiteStore(tmp_path / "pyworkflow.sqlite3", synchronous="SOMETIMES")
    assert list(tmp_path.iterdir()) == []


# -- indexes: claiming and deadlines never scan ---------------------------------------------


@pytest.mark.parametrize(
    "name, table",
    [
        ("next_decision", "runs"),
        ("next_activity", "activities"),
        ("due_runs", "runs"),
        ("due_activities", "activities"),
        ("due_timers", "timers"),
        ("get_open_run", "runs"),
        ("get_latest_run", "runs"),
        ("open_children", "runs"),
        ("history", "events"),
        ("earliest_run_wake", "runs"),
        ("earliest_activity_due", "activities"),
        ("earliest_timer_due", "timers"),
    ],
)
def test_claims_and_deadline_queries_use_an_index(tmp_path: Path, name: str, table: str) -> None:
    store = SQLiteStore(tmp_path / "pyworkflow.sqlite3")
    connection = store._connection()
    params = {
        "category": "default",
        "now": 0,
        "limit": 10,
        "process_id": "p",
        "run_id": "r",
        "parent_run": "r",
        "names": ",Foo,Bar,",
        "root_id": None,
        "after": 0,
    }
    plan = connection.execute("EXPLAIN QUERY PLAN " + queries()[name], params).fetchall()
    details = " | ".join(row[-1] for row in plan)
    assert f"SCAN {table}" not in details
    assert "USING" in details and "INDEX" in details
    assert "TEMP B-TREE" not in details  # no sort: the index gives the order
    store.close()


# -- time and waiting ------------------------------------------------------------------


def test_next_due_at_is_the_earliest_timer_or_deadline(tmp_path: Path) -> None:
    clock = ManualClock()
    backend = open_backend(tmp_path / "pyworkflow.sqlite3", clock)
    backend.start_process(Process(workflow="Flow", id="p"))
    task = backend.poll_decision_task()
    assert task is not None
    backend.complete_decision_task(
        task, [Timer(2.5, id="t"), ScheduleActivity("Step", id="a", input=None)]
    )
    assert backend.store.next_due_at() == clock() + _seconds(2.5)
    backend.close()


def test_wait_for_change_wakes_on_another_writer_and_times_out_otherwise(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    waiting = open_backend(path)
    writer = open_backend(path)
    assert waiting.store.wait_for_change(0.05) is False

    woke: list[bool] = []
    thread = threading.Thread(target=lambda: woke.append(waiting.store.wait_for_change(30)))
    thread.start()
    # Keep writing until it wakes: the first write may land before it starts watching.
    count = 0
    while thread.is_alive():
        writer.start_process(Process(workflow="Flow", id=f"p{count}"))
        count += 1
        thread.join(0.01)
    assert woke == [True]
    waiting.close()
    writer.close()


def test_a_watcher_of_closings_sleeps_through_other_writes(tmp_path: Path) -> None:
    """`process wait` re-reads its process when a run closed, not on every commit."""
    path = tmp_path / "pyworkflow.sqlite3"
    waiting, writer = open_backend(path), open_backend(path)
    waiting.store.wait_for_change(0, RUNS_CLOSED)  # the closings so far are seen
    writer.start_process(Process(workflow="Flow", id="p"))
    task = writer.poll_decision_task()
    assert task is not None
    writer.complete_decision_task(task, ScheduleActivity("Step", id="a", input=1))
    assert waiting.store.wait_for_change(0.3, RUNS_CLOSED) is False

    woke: list[bool] = []
    looked = threading.Event()

    def wait_for_a_closing() -> None:
        waiting.store.wait_for_change(0, RUNS_CLOSED)  # this thread's first look
        looked.set()
        woke.append(waiting.store.wait_for_change(30, RUNS_CLOSED))

    thread = threading.Thread(target=wait_for_a_closing)
    thread.start()
    looked.wait(30)
    writer.cancel_process("p")
    thread.join(30)
    assert woke == [True]
    waiting.close()
    writer.close()


def test_an_update_sets_only_the_columns_it_changes(tmp_path: Path) -> None:
    """SQLite rewrites the entry of every index on a column a SET names, changed or
    not: a claim must not name the status, tags or result it leaves alone."""
    backend = open_backend(tmp_path / "pyworkflow.sqlite3")
    backend.start_process(Process(workflow="Flow", id="p", tags=["a"]))
    statements: list[str] = []
    backend.store._connection().set_trace_callback(statements.append)
    task = backend.poll_decision_task()
    backend.store._connection().set_trace_callback(None)
    assert task is not None
    (update,) = [text for text in statements if text.startswith("UPDATE runs")]
    assigned = update.split(" SET ")[1].split(" WHERE ")[0]
    columns = {part.split(" = ")[0].strip() for part in assigned.split(",")}
    decision_columns = {"decision", "decision_token", "decision_deadline", "decision_attempts"}
    assert columns <= decision_columns | {"due_at", "wake_at"}
    assert "decision" in columns
    # What is stored is what a full read gives back.
    backend.complete_decision_task(task, ScheduleActivity("Step", id="a", input=1))
    process = backend.process_by_id("p")
    assert process.tags == ["a"] and process.is_open
    assert backend.poll_activity_task() is not None
    backend.close()


def test_records_handed_out_are_copies(tmp_path: Path) -> None:
    backend = open_backend(tmp_path / "pyworkflow.sqlite3")
    backend.start_process(Process(workflow="Flow", id="p", tags=["a"]))
    store = backend.store

    def change(tx) -> None:
        run = tx.get_open_run("p")
        assert run is not None
        run.tags.append("changed")
        run.status = "completed"

    store.run(change)
    again = store.run(lambda tx: tx.get_open_run("p"))
    assert again is not None and again.tags == ["a"]
    backend.close()


def test_an_error_inside_a_transaction_rolls_it_back(tmp_path: Path) -> None:
    backend = open_backend(tmp_path / "pyworkflow.sqlite3")
    backend.start_process(Process(workflow="Flow", id="p"))

    def work(tx) -> None:
        run = tx.get_open_run("p")
        assert run is not None
        tx.append_events(run, [])
        run.status = "failed"
        tx.update_process(run)
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        backend.store.run(work)
    assert backend.process_by_id("p").is_open
    backend.close()


def _seconds(value: float):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(seconds=value)


# -- threads: one connection each --------------------------------------------------------

RAN: list[tuple[str | None, str, int]] = []
RAN_LOCK = threading.Lock()


class NoteActivity(Activity):
    def execute(self) -> Any:
        with RAN_LOCK:
            RAN.append((self.task.process_id, self.task.activity_execution.id, self.task.attempt))
        return self.input


class TwoNotesWorkflow(Workflow):
    activities = [NoteActivity]

    def decide(self, process: Process) -> Any:
        done = [event for event in process.history if event.type == "activity"]
        if len(done) == 2:
            return CompleteProcess(len(done))
        return ScheduleActivity(NoteActivity, id=f"note-{len(done) + 1}", input=len(done))


def test_worker_threads_sharing_one_backend_run_each_attempt_once(tmp_path: Path) -> None:
    RAN.clear()
    manager = Manager(SQLiteBackend(tmp_path / "pyworkflow.sqlite3"), [TwoNotesWorkflow])
    count = 200
    for index in range(count):
        manager.start_process(Process(workflow=TwoNotesWorkflow, id=f"p{index}"))
    workers = [
        ActivityWorker(manager, concurrency=4),
        DecisionWorker(manager),
        DecisionWorker(manager),
    ]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while manager.processes(status="open") and time.monotonic() < deadline:
        time.sleep(0.05)
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(30)
    closed = manager.processes(status="completed")
    assert len(closed) == count
    assert sorted(RAN) == sorted(
        (f"p{index}", f"note-{step}", 1) for index in range(count) for step in (1, 2)
    )
    manager.backend.close()


def test_each_thread_has_its_own_connection_closed_when_the_thread_ends(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "pyworkflow.sqlite3")
    mine = store._connection()
    seen: list[sqlite3.Connection] = []
    barrier = threading.Barrier(8)

    def use() -> None:
        store.run(lambda tx: tx.get_open_run("nothing"))
        seen.append(store._connection())
        barrier.wait()  # all alive at once: none can reuse another's connection

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(connection) for connection in seen}) == 8
    assert mine not in seen
    gc.collect()
    for connection in seen:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    assert mine.execute("SELECT 1").fetchone() == (1,)
    store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        mine.execute("SELECT 1")


def test_reads_go_on_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    backend = open_backend(path, clock)
    backend.start_process(Process(workflow="Flow", id="p"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write in progress
    try:
        reader = SQLiteBackend(path, clock=clock, busy_timeout=0.1)
        assert reader.process_by_id("p").is_open
        assert [process.id for process in reader.processes()] == ["p"]
        reader.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    backend.close()


def test_a_poll_that_finds_nothing_takes_no_write_lock(tmp_path: Path) -> None:
    """An idle worker, woken by another's commit, does not hold up the writer with
    work: with nothing to claim and nothing due, its poll only reads."""
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    backend = SQLiteBackend(path, clock=clock, busy_timeout=0.1)
    backend.register_workflow("Flow", decision_timeout=5)
    backend.register_activity("Step", scheduled_timeout=30, execution_timeout=10)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write in progress
    try:
        assert backend.poll_decision_task() is None
        assert backend.poll_activity_task() is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    backend.close()


def test_a_poll_with_work_or_a_deadline_due_still_claims_and_sweeps(tmp_path: Path) -> None:
    """The look before the lock lets through a poll that has work to claim, and one
    whose store has a deadline due, which it applies."""
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    backend = open_backend(path, clock)
    backend.start_process(Process(workflow="Flow", id="p"))
    task = backend.poll_decision_task()
    assert task is not None
    backend.complete_decision_task(task, ScheduleActivity("Step", id="a", input=1))
    activity = backend.poll_activity_task()
    assert activity is not None
    clock.advance(11)  # past the activity's execution timeout: only a sweep sees it
    assert backend.poll_activity_task() is None
    timed_out = backend.process_by_id("p").history[-1]
    assert isinstance(timed_out, ActivityEvent)
    assert timed_out.result == ActivityTimedOut("execution_timeout")
    assert backend.poll_decision_task() is not None
    backend.close()


def test_a_closing_committed_while_the_watcher_looks_still_wakes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that closes between the watcher's look at the closings and its wait
    is not slept through."""
    path = tmp_path / "pyworkflow.sqlite3"
    waiting, writer = open_backend(path), open_backend(path)
    writer.start_process(Process(workflow="Flow", id="p"))
    waiting.store.wait_for_change(0, RUNS_CLOSED)  # the closings so far are seen
    looks = 0
    look = waiting.store._latest_closing

    def look_then_close() -> int | None:
        nonlocal looks
        looks += 1
        latest = look()
        if looks == 1:
            writer.cancel_process("p")  # lands just after the look, before the wait
        return latest

    monkeypatch.setattr(waiting.store, "_latest_closing", look_then_close)
    assert waiting.store.wait_for_change(5, RUNS_CLOSED) is True
    waiting.close()
    writer.close()


def test_a_report_whose_claim_meets_an_undecodable_history_stands(tmp_path: Path) -> None:
    """Another process's history holds an event this code cannot decode (a newer
    version wrote it): the report that would claim it is recorded and says so;
    the claim is left to the next poll, which fails as a poll."""
    path = tmp_path / "pyworkflow.sqlite3"
    backend = open_backend(path)
    backend.start_process(Process(workflow="Flow", id="reported"))
    backend.start_process(Process(workflow="Flow", id="unreadable"))
    task = backend.poll_decision_task()
    assert task is not None and task.process.id == "reported"
    writer = sqlite3.connect(path, isolation_level=None)
    run_id = writer.execute("SELECT run_id FROM runs WHERE process_id = 'unreadable'").fetchone()
    writer.execute("INSERT INTO events VALUES (?, 99, ?)", (run_id[0], '{"@": "FutureEvent"}'))
    writer.close()
    poll = Poll("default", "me", None, None)
    decision = ScheduleActivity("Step", id="a", input=1)
    assert backend.complete_and_claim_decision_task(task, decision, poll) is None
    assert [event.type for event in backend.process_by_id("reported").history][-1] == "decision"
    with pytest.raises(CodecError):
        backend.poll_decision_task()
    backend.close()
