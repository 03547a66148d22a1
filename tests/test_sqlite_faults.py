"""What production does to a SQLite worker: a read transaction left open while
work goes on, and a disk that fills up."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyworkflow.activity import Activity
from pyworkflow.backend.sqlite import WAL_SIZE_LIMIT, SQLiteBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.events import ActivityEvent
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow.workflow import Workflow

from .cli.processes import run
from .support import wait_until


class PaddedActivity(Activity):
    """Returns a result large enough that history writes fill pages quickly."""

    def execute(self) -> Any:
        return "x" * 4000


class PaddedWorkflow(Workflow):
    activities = [PaddedActivity]

    def decide(self, process: Process) -> Any:
        done = [event for event in process.history if isinstance(event, ActivityEvent)]
        return CompleteProcess(len(done)) if done else PaddedActivity


def _wal_size(path: Path) -> int:
    try:
        return os.stat(f"{path}-wal").st_size
    except FileNotFoundError:
        return 0


@contextlib.contextmanager
def _workers(manager: Manager) -> Iterator[None]:
    threads = [
        WorkerThread(worker) for worker in (DecisionWorker(manager), ActivityWorker(manager))
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for thread in threads:
            thread.join()
        assert not any(thread.is_alive() for thread in threads)


def test_the_wal_shrinks_back_once_a_long_reader_ends(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pyworkflow.backend.sqlite")
    path = tmp_path / "workflows.db"
    reader_holds = threading.Event()
    peak: list[int] = []

    def long_reader() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN")
        connection.execute("SELECT count(*) FROM pyworkflow_schema").fetchone()
        reader_holds.set()
        time.sleep(15)  # the work goes on behind this reader meanwhile
        peak.append(_wal_size(path))
        connection.execute("COMMIT")
        connection.close()

    with SQLiteBackend(path) as backend:
        manager = Manager(backend, workflows=[PaddedWorkflow])
        reader = threading.Thread(target=long_reader)
        reader.start()
        assert reader_holds.wait(10)
        with _workers(manager):
            ids = [manager.start_process(Process(PaddedWorkflow)) for _ in range(400)]
            for process_id in ids:
                wait_until(lambda pid=process_id: not manager.process_by_id(pid).is_open, 120)
            reader.join()
            # With the work done, only the idle workers are left to notice.
            wait_until(lambda: _wal_size(path) < WAL_SIZE_LIMIT, timeout=10)
        assert all(manager.process_by_id(pid).result.result == 1 for pid in ids)
    assert peak[0] > WAL_SIZE_LIMIT, f"the WAL never outgrew its limit ({peak[0]} bytes)"
    warnings = [r for r in caplog.records if "long-lived read transaction" in r.getMessage()]
    assert warnings and warnings[0].levelno == logging.WARNING


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB filesystem of the test's own, to fill up; skipped where none may be mounted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here to make a small filesystem with")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _fill(directory: Path) -> Path:
    filler = directory / "filler"
    with filler.open("wb") as file, contextlib.suppress(OSError):
        while True:
            file.write(b"\0" * 65536)
            file.flush()
    return filler


def test_a_full_disk_fails_the_command_with_4_and_workers_resume_when_space_returns(
    small_disk, tmp_path
):
    path = small_disk / "workflows.db"
    config = tmp_path / "pyworkflow.yaml"
    config.write_text(
        f"backend:\n  type: sqlite\n  path: {path}\n"
        "workflows:\n  - pyworkflow.examples.multiplication\n"
    )
    with SQLiteBackend(path) as backend:
        manager = Manager(backend, workflows=[FooWorkflow])
        with _workers(manager):
            first = run("process", "start", "Foo", "--input", "[3,4]", "--config", str(config))
            assert first.returncode == 0, first.stderr
            done = wait_until(lambda: _closed(manager, first.stdout.strip()), timeout=30)
            assert done.result.result == 12
            # An empty WAL: the next write needs space the disk no longer has.
            with contextlib.closing(sqlite3.connect(path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = _fill(small_disk)

            refused = run("process", "start", "Foo", "--input", "[2,5]", "--config", str(config))
            assert refused.returncode == 4, refused.stderr
            assert "disk is full" in refused.stderr
            assert refused.stderr.count("\n") == 1, refused.stderr
            assert len(manager.processes(status=None)) == 1  # nothing half-written

            filler.unlink()
            again = run("process", "start", "Foo", "--input", "[2,5]", "--config", str(config))
            assert again.returncode == 0, again.stderr
            done = wait_until(lambda: _closed(manager, again.stdout.strip()), timeout=30)
            assert done.result.result == 10


def _closed(manager: Manager, process_id: str) -> Process | None:
    process = manager.process_by_id(process_id)
    return None if process.is_open else process


OPEN_WHEN_TOLD = """
import os, sys, time
from pyworkflow.backend.sqlite import SQLiteBackend
go = sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.001)
SQLiteBackend(sys.argv[1]).close()
"""


def test_eight_processes_opening_an_empty_database_at_once_all_succeed(tmp_path):
    path = tmp_path / "workflows.db"
    go = tmp_path / "go"
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, str(path), str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    go.touch()
    failures = [opener.communicate(timeout=60)[1] for opener in openers]
    assert [opener.returncode for opener in openers] == [0] * 8, failures
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT COUNT(*) FROM pyworkflow_schema").fetchone() == (1,)
