"""Real worker processes on one shared store, for the multi-process tests of every
durable backend: start them, kill them, wait for processes, read what ran."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted

from .worker_processes import PairWorkflow

REPO = Path(__file__).resolve().parent.parent
WAIT_LIMIT = 120.0


class Workers:
    """Starts worker processes on ``store`` and makes sure none outlives the test."""

    def __init__(self, store: dict[str, str], log_dir: Path) -> None:
        self.store = store
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[str]] = []

    def start(self, kind: str) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYWORKFLOW_TEST_LOG_DIR=str(self.log_dir))
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_processes", json.dumps(self.store), kind],
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


def run_pairs_on_six_workers(
    manager: Manager, workers: Workers, log_dir: Path, count: int, open_count
) -> None:
    """4 activity and 2 decision worker processes run ``count`` two-step processes:
    all complete, every step ran exactly once, and every activity worker took part.
    ``open_count()`` says how many are still open, cheaply."""
    for _ in range(4):
        workers.start("activity")
    for _ in range(2):
        workers.start("decision")
    for index in range(count):
        manager.start_process(Process(workflow=PairWorkflow, id=f"p{index}"))

    deadline = time.monotonic() + WAIT_LIMIT
    while open_count():
        assert time.monotonic() < deadline, "processes still open"
        time.sleep(0.1)
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
