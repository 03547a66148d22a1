"""The benchmark's workflow, and a worker process that runs it.

``python benchmarks/bench_workers.py DB KIND`` (repository on PYTHONPATH) prints
``ready``, waits for a line on stdin, then works until SIGTERM. DB is a SQLite
file, or a PostgreSQL DSN (``postgresql://...`` or ``host=... dbname=...``).
"""

from __future__ import annotations

import signal
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar

from pyworkflow.activity import Activity, ActivityCompleted
from pyworkflow.backend.base import Backend
from pyworkflow.decision import CompleteProcess, FailProcess, ScheduleActivity
from pyworkflow.events import ActivityEvent
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker, Worker
from pyworkflow.workflow import Workflow

STEPS = 3


class IncrementActivity(Activity):
    scheduled_timeout = 3600

    def execute(self) -> Any:
        return self.input + 1


class ThreeStepWorkflow(Workflow):
    """Three trivial activities in sequence, then complete with their total."""

    activities: ClassVar[list[type[Activity]]] = [IncrementActivity]

    def decide(self, process: Process) -> Any:
        results = [event.result for event in process.history if isinstance(event, ActivityEvent)]
        last = results[-1] if results else None
        if last is not None and not isinstance(last, ActivityCompleted):
            return FailProcess(reason=repr(last))
        if last is not None and len(results) == STEPS:
            return CompleteProcess(last.result)
        value = last.result if last is not None else 0
        step = self.activities[0]
        return ScheduleActivity(step, id=f"step-{len(results) + 1}", input=value)


def backend_for(target: str) -> Backend:
    if target.startswith(("postgresql://", "postgres://")) or "dbname=" in target:
        from pyworkflow.backend.postgres import PostgresBackend

        return PostgresBackend(target)
    from pyworkflow.backend.sqlite import SQLiteBackend

    return SQLiteBackend(target)


def manager_for(target: str) -> Manager:
    return Manager(backend_for(target), workflows=[ThreeStepWorkflow])


def main(argv: list[str]) -> int:
    path, kind = argv
    manager = manager_for(path)
    worker: Worker = ActivityWorker(manager) if kind == "activity" else DecisionWorker(manager)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    print("ready", flush=True)
    sys.stdin.readline()
    worker.run()
    manager.backend.close()
    print(worker.tasks_handled, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


Row = tuple[str, str, str]


def idle_latency(
    manager: Manager,
    is_completed: Callable[[str], bool],
    runs: tuple[tuple[float, int], ...],
    note: str,
) -> list[Row]:
    """Start one process at a time after the workers went idle for each gap, and
    time it to completion: p50 and p95 per gap."""
    rows: list[Row] = []
    for gap, count in runs:
        timings = []
        for index in range(count):
            time.sleep(gap)  # the workers go idle
            begin = time.perf_counter()
            process_id = manager.start_process(
                Process(workflow=ThreeStepWorkflow, id=f"latency-{gap}-{index}")
            )
            while not is_completed(process_id):
                time.sleep(0.0002)
            timings.append(time.perf_counter() - begin)
        timings.sort()
        p50 = statistics.median(timings) * 1000
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))] * 1000
        rows.append(
            (
                f"latency, one {STEPS}-activity process, {gap:g} s idle before",
                f"p50 {p50:.1f} ms, p95 {p95:.1f} ms",
                f"{note} ({count} runs)",
            )
        )
    return rows
