"""Retention benchmarks: how fast closed processes are purged, and whether a steady
workload's database stops growing once closed processes expire.

``python benchmarks/retention_bench.py`` (``--quick`` for a smaller run;
``--postgres DSN`` adds PostgreSQL to the purge rate). Processes run the
3-activity workflow in this process with a ManualClock, so simulated time can
run faster than the wall clock: each process advances it by ``--gap`` seconds.
The steady workload's purging is the workers' own: a Purger hook on the
decision worker, every half second of wall time. Figures are medians.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_workers import STEPS, Row, ThreeStepWorkflow  # noqa: E402
from sqlite_bench import print_table  # noqa: E402

from pyworkflow.backend.base import Backend  # noqa: E402
from pyworkflow.backend.sqlite import SQLiteBackend  # noqa: E402
from pyworkflow.clock import ManualClock  # noqa: E402
from pyworkflow.hooks import WorkerHook  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.purging import Purger  # noqa: E402
from pyworkflow.worker import ActivityWorker, DecisionWorker  # noqa: E402

RETENTION = timedelta(minutes=1)


class Driver:
    """Runs processes to completion with one decision and one activity worker,
    stepped in this thread (a worker's ``run`` would wait on the wall clock)."""

    def __init__(self, backend: Backend, hooks: list[WorkerHook]) -> None:
        self.hooks = hooks
        self.manager = Manager(backend, workflows=[ThreeStepWorkflow])
        self.workers = [
            DecisionWorker(self.manager, hooks=hooks),
            ActivityWorker(self.manager),
        ]

    def run_one(self) -> None:
        self.manager.start_process(Process(workflow=ThreeStepWorkflow))
        while any([worker.step() for worker in self.workers]):
            pass
        # Between polls, as a worker's loop calls them.
        for hook in self.hooks:
            hook.poll_finished("decider", "decision", False)


def db_size(path: Path) -> int:
    """The database file after a checkpoint, as a backup would copy it."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path.stat().st_size


def purge_rate(make: Callable[[ManualClock], Backend], count: int, repeat: int, label: str) -> Row:
    rates = []
    for _ in range(repeat):
        clock = ManualClock()
        backend = make(clock)
        driver = Driver(backend, [])
        for _ in range(count):
            driver.run_one()
        clock.advance(RETENTION.total_seconds() * 2)
        begin = time.perf_counter()
        purged = backend.purge(RETENTION)
        elapsed = time.perf_counter() - begin
        assert purged == count, (purged, count)
        assert backend.count_processes(status="all") == 0
        backend.close()
        rates.append(count / elapsed)
    return (
        f"purge rate, {label}",
        f"{statistics.median(rates):,.0f} processes/s",
        f"{count} closed {STEPS}-activity processes, batches of 100, median of {repeat}",
    )


def postgres_purge_rate(dsn: str, count: int, repeat: int) -> Row:
    """The purge rate on PostgreSQL, each repeat in a schema of its own, dropped after."""
    import psycopg

    from pyworkflow.backend.postgres import PostgresBackend

    schemas: list[str] = []

    def make(clock: ManualClock) -> Backend:
        schemas.append(f"bench_purge_{os.getpid()}_{len(schemas)}")
        return PostgresBackend(dsn, clock=clock, schema=schemas[-1])

    try:
        return purge_rate(make, count, repeat, "PostgreSQL")
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def steady_workload(directory: Path, total: int, gap: float, checkpoints: int) -> list[Row]:
    sizes: dict[str, list[int]] = {}
    kept: dict[str, int] = {}
    for label, retention in (("without retention", None), ("retention 1m", RETENTION)):
        path = directory / f"steady-{label.replace(' ', '-')}.sqlite3"
        clock = ManualClock()
        backend = SQLiteBackend(path, clock=clock)
        hooks: list[WorkerHook] = (
            [] if retention is None else [Purger(backend, retention=retention, interval=0.5)]
        )
        driver = Driver(backend, hooks)
        sizes[label] = []
        for done in range(1, total + 1):
            driver.run_one()
            clock.advance(gap)
            if done % (total // checkpoints) == 0:
                sizes[label].append(db_size(path))
        kept[label] = backend.count_processes(status="all")
        backend.close()
    step = total // checkpoints
    rows: list[Row] = []
    for index in range(checkpoints):
        without = sizes["without retention"][index]
        with_retention = sizes["retention 1m"][index]
        rows.append(
            (
                f"steady workload, SQLite file after {(index + 1) * step:,} processes",
                f"{with_retention / 2**20:.1f} MiB vs {without / 2**20:.1f} MiB",
                f"retention 1m vs none; one process every {gap:g} s simulated",
            )
        )
    rows.append(
        (
            "steady workload, processes kept at the end",
            f"{kept['retention 1m']:,} vs {kept['without retention']:,}",
            f"retention 1m vs none, of {total:,}",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--postgres", metavar="DSN", help="also measure PostgreSQL's purge rate")
    parser.add_argument("--processes", type=int, help="steady workload size [20000; quick 2000]")
    parser.add_argument("--gap", type=float, default=0.05, help="simulated s between processes")
    args = parser.parse_args()
    purge_count, repeat = (500, 1) if args.quick else (2000, 3)
    total = args.processes or (2000 if args.quick else 20_000)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pyworkflow-bench-") as name:
        directory = Path(name)
        made = iter(range(1_000_000))
        print("  running purge rate ...", file=sys.stderr, flush=True)
        rows.append(
            purge_rate(
                lambda clock: SQLiteBackend(directory / f"p{next(made)}.sqlite3", clock=clock),
                purge_count,
                repeat,
                "SQLite",
            )
        )
        if args.postgres:
            rows.append(postgres_purge_rate(args.postgres, purge_count, repeat))
        print("  running steady workload ...", file=sys.stderr, flush=True)
        rows.extend(steady_workload(directory, total, args.gap, checkpoints=5))
    version = sys.version.split()[0]
    print(f"SQLite {sqlite3.sqlite_version}, Python {version}, {os.cpu_count()} cores")
    print_table(rows)


if __name__ == "__main__":
    main()
