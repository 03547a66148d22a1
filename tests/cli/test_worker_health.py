"""A worker that cannot reach its backend does not report success, and under
systemd it says when it is ready, feeds the watchdog, and says when it stops."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import DecisionWorker
from pyworkflow_cli.errors import EXIT_BACKEND_UNREACHABLE

from .conftest import cli_command, subprocess_env

CONFIG = "backend: {type: sqlite, path: %s}\nworkflows: [pyworkflow.examples.multiplication]\n"


@pytest.fixture
def locked(tmp_path, write, monkeypatch):
    """A real database another writer holds locked, and a backend that waits little.
    It holds a task of each kind: a worker with nothing to claim only reads, which
    the lock does not stop."""
    path = str(tmp_path / "shop.db")
    with SQLiteBackend(path) as backend:
        manager = Manager(backend, workflows=[FooWorkflow])
        manager.start_process(Process(workflow=FooWorkflow, id="scheduled", input=[3, 4]))
        manager.start_process(Process(workflow=FooWorkflow, id="deciding", input=[3, 4]))
        DecisionWorker(manager).step()
    monkeypatch.setattr(
        "pyworkflow_cli.backends.create_backend",
        lambda config, create=True, **options: SQLiteBackend(
            path, busy_timeout=0.05, create=create
        ),
    )
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield write("shop.yaml", CONFIG % path)
    holder.execute("ROLLBACK")
    holder.close()


@pytest.mark.parametrize("kind", ["activity", "decision"])
def test_exit_when_idle_after_failed_polls_exits_4(invoke, locked, kind):
    result = invoke("worker", kind, "--exit-when-idle", "-c", locked)
    assert result.exit_code == EXIT_BACKEND_UNREACHABLE, result.output
    assert "backend unreachable: the last poll failed" in result.stderr
    assert "locked" in result.stderr


def test_exit_when_idle_on_a_reachable_backend_exits_0(invoke, write, tmp_path):
    config = write("shop.yaml", CONFIG % (tmp_path / "shop.db"))
    assert invoke("worker", "activity", "--exit-when-idle", "-c", config).exit_code == 0


def test_systemd_hears_ready_watchdog_and_stopping(tmp_path, write):
    config = write("shop.yaml", CONFIG % (tmp_path / "shop.db"))
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(60)  # a bound on a hang, not a measurement
        worker = subprocess.Popen(
            cli_command("worker", "decision", "--config", config),
            env=subprocess_env(NOTIFY_SOCKET=address, WATCHDOG_USEC="200000"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            heard = [sock.recv(256).decode()]
            while heard.count("WATCHDOG=1") < 2:
                heard.append(sock.recv(256).decode())
            worker.send_signal(signal.SIGTERM)
            while heard[-1] != "STOPPING=1":
                heard.append(sock.recv(256).decode())
            assert worker.wait(60) == 0
        finally:
            worker.kill()
            stderr = worker.stderr.read().decode() if worker.stderr else ""
            worker.wait()
    assert heard[0] == "READY=1"
    assert set(heard) == {"READY=1", "WATCHDOG=1", "STOPPING=1"}
    assert json.loads(stderr.splitlines()[-1])["event"] == "worker stopped"


def test_sighup_stops_a_worker_gracefully(tmp_path, write):
    config = write("shop.yaml", CONFIG % (tmp_path / "shop.db"))
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(60)
        worker = subprocess.Popen(
            cli_command("worker", "activity", "--config", config),
            env=subprocess_env(NOTIFY_SOCKET=address),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert sock.recv(256) == b"READY=1"
            worker.send_signal(signal.SIGHUP)
            assert worker.wait(60) == 0
        finally:
            worker.kill()
            stderr = worker.stderr.read().decode() if worker.stderr else ""
            worker.wait()
    events = [json.loads(line)["event"] for line in stderr.splitlines()]
    assert "SIGHUP received: finishing the task in hand, then stopping" in events
    assert events[-1] == "worker stopped"


def test_notify_reaches_an_abstract_socket_and_nothing_without_one(tmp_path):
    from pyworkflow_cli.sdnotify import notify

    name = f"pyworkflow-test-{tmp_path.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(60)
        assert notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(64) == b"READY=1"
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})


def test_the_watchdog_period_is_for_this_process_only():
    import os

    from pyworkflow_cli.sdnotify import watchdog_seconds

    assert watchdog_seconds({"WATCHDOG_USEC": "30000000"}) == 30
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}) == 30
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({}) is None
