"""A SQLite database opened for reading only: on a file or directory the user
cannot write, on read-only media; it writes nothing, creates nothing, locks
nothing and applies no deadline. And writers sweep only when a deadline passed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.clock import ManualClock
from pyworkflow.exceptions import BackendConfigurationError
from pyworkflow.process import Process


def open_backend(path: Path, clock: ManualClock) -> SQLiteBackend:
    backend = SQLiteBackend(path, clock=clock)
    backend.register_workflow("Flow", decision_timeout=5)
    return backend


def fill(path: Path, clock: ManualClock) -> None:
    """Two processes; p's decision claimed and then left past its deadline, so a
    read that applied deadlines would write its timeout."""
    with open_backend(path, clock) as backend:
        backend.start_process(Process(workflow="Flow", id="p", input=1))
        assert backend.poll_decision_task() is not None
        backend.start_process(Process(workflow="Flow", id="q", input=2))
    clock.advance(60)


def state_of(directory: Path) -> dict[str, tuple[int, str]]:
    """Every file beside the database, with its mtime and content."""
    return {
        entry.name: (entry.stat().st_mtime_ns, hashlib.sha256(entry.read_bytes()).hexdigest())
        for entry in directory.iterdir()
    }


@contextlib.contextmanager
def read_only(*paths: Path, mode: int) -> Iterator[None]:
    saved = [(path, path.stat().st_mode) for path in paths]
    for path in paths:
        path.chmod(mode)
    try:
        yield
    finally:
        for path, was in saved:
            path.chmod(was)


def read_everything(backend: SQLiteBackend) -> None:
    shown = backend.process_by_id("p")
    assert shown.is_open and shown.input == 1
    # The passed decision deadline is left for a worker: no timeout was written.
    assert [event.type for event in shown.history] == ["process_started", "decision_started"]
    assert sorted(process.id for process in backend.processes()) == ["p", "q"]
    runs = backend.process_runs("q")
    assert [run.input for run in runs] == [2] and len(runs[0].history) == 1
    assert backend.count_processes(status="all") == 2
    assert backend.wait_for_work(0.01) is False


def test_a_read_only_file_in_a_read_only_directory_is_read_and_left_untouched(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    path = directory / "pyworkflow.sqlite3"
    clock = ManualClock()
    fill(path, clock)
    before = state_of(directory)
    with read_only(path, mode=0o444), read_only(directory, mode=0o555):
        with SQLiteBackend(path, clock=clock, readonly=True) as backend:
            read_everything(backend)
        assert state_of(directory) == before


def test_a_write_on_a_read_only_backend_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    fill(path, clock)
    before = state_of(tmp_path)
    with SQLiteBackend(path, clock=clock, readonly=True) as backend:
        backend.register_workflow("Flow")
        with pytest.raises(BackendConfigurationError, match="opened read-only") as refused:
            backend.start_process(Process(workflow="Flow", id="r"))
        assert "\n" not in str(refused.value)
        with pytest.raises(BackendConfigurationError, match="opened read-only"):
            backend.vacuum()
        with backend.purge_lock() as got:
            assert got is False
        assert [process.id for process in backend.processes()] == ["p", "q"]
    assert state_of(tmp_path) == before


def test_a_reader_sees_commits_still_in_the_wal_of_a_live_writer(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    fill(path, clock)
    writer = open_backend(path, clock)
    try:
        writer.start_process(Process(workflow="Flow", id="r"))
        assert Path(f"{path}-wal").stat().st_size > 0
        with (
            read_only(path, mode=0o444),
            SQLiteBackend(path, clock=clock, readonly=True) as reader,
        ):
            assert reader.process_by_id("r").is_open
            writer.terminate_process("r")
            assert reader.process_by_id("r").status == "terminated"
    finally:
        writer.close()


def test_reads_take_no_lock_and_run_no_sweep(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    fill(path, clock)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer at work in another process
    try:
        with SQLiteBackend(path, clock=clock, busy_timeout=0.1, readonly=True) as backend:
            statements: list[str] = []
            backend.store._connection().set_trace_callback(statements.append)
            read_everything(backend)
            assert statements, "the reads ran on this thread's connection"
            assert not [sql for sql in statements if "IMMEDIATE" in sql or "due_at <=" in sql]
            assert not [
                sql for sql in statements if sql.lstrip().upper().startswith(("INS", "UPD"))
            ]
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_file_that_is_no_pyworkflow_database_is_refused_by_a_reader(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(BackendConfigurationError, match="no pyworkflow processes"):
        SQLiteBackend(empty, readonly=True)
    with pytest.raises(BackendConfigurationError, match="does not exist"):
        SQLiteBackend(tmp_path / "missing.sqlite3", readonly=True)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["empty.sqlite3"]


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs mounted here, remounted read-only by the test; skipped where the
    system refuses mounts (not root, no CAP_SYS_ADMIN, in a container)."""
    mount = tmp_path / "media"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_database_on_a_read_only_file_system_is_read(
    read_only_mount: Path, tmp_path: Path
) -> None:
    path = read_only_mount / "pyworkflow.sqlite3"
    clock = ManualClock()
    fill(path, clock)
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_mount)], check=True)
    assert not os.access(read_only_mount, os.W_OK)
    before = state_of(read_only_mount)
    with SQLiteBackend(path, clock=clock, readonly=True) as backend:
        read_everything(backend)
    assert state_of(read_only_mount) == before
    with pytest.raises(BackendConfigurationError, match="read-only"):
        SQLiteBackend(path, clock=clock)


# -- writers sweep only what is due -------------------------------------------------


def sweep_statements(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "due_at <=" in sql]


def test_a_unit_of_work_sweeps_only_once_a_deadline_has_passed(tmp_path: Path) -> None:
    path = tmp_path / "pyworkflow.sqlite3"
    clock = ManualClock()
    with open_backend(path, clock) as backend:
        backend.start_process(Process(workflow="Flow", id="p"))
        statements: list[str] = []
        backend.store._connection().set_trace_callback(statements.append)
        task = backend.poll_decision_task()
        assert task is not None
        # Nothing due: one statement stands in for the sweep's three.
        assert sweep_statements(statements) == []
        assert sum("earliest" in sql or "MIN(" in sql for sql in statements) == 1
        statements.clear()
        clock.advance(6)  # past the claimed decision's 5 s deadline
        assert backend.poll_decision_task() is not None  # the timed-out decision, again
        assert len(sweep_statements(statements)) == 3
        history = [event.type for event in backend.process_by_id("p").history]
        assert history[-2:] == ["decision_timed_out", "decision_started"]


def test_a_file_watch_wakes_on_a_write_and_is_drained_after(tmp_path: Path) -> None:
    from pyworkflow.backend._file_watch import FileWatch

    target = tmp_path / "watched"
    target.write_bytes(b"")
    watch = FileWatch(str(target))
    missing = FileWatch(str(tmp_path / "absent"))
    try:
        assert missing.watching is False  # it then sleeps: the caller's polling serves
        if not watch.watching:
            pytest.skip("no inotify on this system")
        assert select.select([watch._fd], [], [], 0)[0] == []
        with target.open("ab") as file:
            file.write(b"commit")
        assert select.select([watch._fd], [], [], 0)[0] == [watch._fd]
        watch.wait(30)  # returns on the write already made, not after 30 s
        assert select.select([watch._fd], [], [], 0)[0] == []
    finally:
        watch.close()
        missing.close()
