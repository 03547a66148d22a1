"""Statements and round trips per operation of a three-activity process.

``python benchmarks/round_trips.py [--dsn DSN] [--processes N]`` runs N
processes (three activities each, every activity heartbeating once) through a
decision and an activity worker in this process, one step at a time, on
PostgreSQL (a scratch database on the server the DSN names) and on SQLite (a
scratch file), and prints per operation the statements sent and, on
PostgreSQL, the round trips to the server (every exchange that waits for the
server's answer).

Counting hooks where statements leave: on PostgreSQL the backend's pipeline
(``pyworkflow.backend._postgres_pipeline``: each exchange sends its statements,
BEGIN and COMMIT among them, and waits once for their answers), and sqlite3
through a connection factory's ``execute``. The counts are exact for one process at
a time; they include the workers' idle polls that found nothing (one per
operation that follows a commit by another).

With ``--in-flight``, all N processes are started first and each worker runs
its loop until idle, as busy workers do: a report then claims the worker's
next task in the same call (``complete_and_claim_*``), and the polls of its
own nearly vanish.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_workers import ThreeStepWorkflow  # noqa: E402
from postgres_bench import DEFAULT_SERVER, scratch_database  # noqa: E402

from pyworkflow.activity import Activity  # noqa: E402
from pyworkflow.backend._postgres_pipeline import Pipeline  # noqa: E402
from pyworkflow.backend.base import Backend  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.worker import ActivityWorker, DecisionWorker  # noqa: E402

OPERATIONS = (
    "start_process",
    "poll_decision_task",
    "complete_decision_task",
    "poll_activity_task",
    "heartbeat_activity_task",
    "complete_activity_task",
    "complete_and_claim_decision_task",
    "complete_and_claim_activity_task",
)


class HeartbeatingIncrement(Activity):
    scheduled_timeout = 3600
    heartbeat_timeout = 3600

    def execute(self) -> Any:
        self.heartbeat()
        return self.input + 1


class ThreeSteps(ThreeStepWorkflow):
    """The benchmarks' three steps, each heartbeating once."""

    activities: ClassVar[list[type[Activity]]] = [HeartbeatingIncrement]


class Tally:
    """Counts per operation: which one is running is set by the wrapped backend."""

    def __init__(self) -> None:
        self.operation = ""
        self.calls: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.trips: Counter[str] = Counter()

    def wrap(self, backend: Backend) -> None:
        for name in OPERATIONS:
            original = getattr(backend, name)
            setattr(backend, name, self._counted(name, original))

    def _counted(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            outer, self.operation = self.operation, name
            try:
                self.calls[name] += 1
                return original(*args, **kwargs)
            finally:
                self.operation = outer

        return call


def _counted() -> bool:
    """Whether an exchange is the counted calls' own: not the listener's, whose
    thread waits for notifications beside them."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def counting_psycopg(tally: Tally) -> Iterator[None]:
    """Every statement goes through the backend's pipeline: an exchange sends its
    statements together and waits once, at its sync."""
    exchange = Pipeline._exchange

    def counted_exchange(pipeline: Any, statements: Any) -> Any:
        if tally.operation and _counted():
            tally.statements[tally.operation] += len(statements)
            tally.trips[tally.operation] += 1
        return exchange(pipeline, statements)

    with patch.object(Pipeline, "_exchange", counted_exchange):
        yield


@contextmanager
def counting_sqlite(tally: Tally) -> Iterator[None]:
    connect = sqlite3.connect

    class Counted(sqlite3.Connection):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            if tally.operation:
                tally.statements[tally.operation] += 1
            return super().execute(*args, **kwargs)

        def commit(self) -> None:
            if tally.operation and self.in_transaction:
                tally.statements[tally.operation] += 1
            super().commit()

        def rollback(self) -> None:
            if tally.operation and self.in_transaction:
                tally.statements[tally.operation] += 1
            super().rollback()

    def counted_connect(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("factory", Counted)
        return connect(*args, **kwargs)

    with patch.object(sqlite3, "connect", counted_connect):
        yield


def drive(backend: Backend, tally: Tally, processes: int, in_flight: bool = False) -> None:
    tally.wrap(backend)
    manager = Manager(backend, workflows=[ThreeSteps])
    decider, runner = DecisionWorker(manager), ActivityWorker(manager)
    names = [f"p{index}-{id(tally)}" for index in range(processes)]
    if in_flight:
        for name in names:
            manager.start_process(Process(workflow=ThreeSteps, id=name))
        # Each worker's own loop, until it finds nothing, in turn (run() answers
        # how many tasks the worker has handled so far).
        handled = -1
        while handled != (handled := decider.tasks_handled + runner.tasks_handled):
            decider.run(exit_when_idle=True)
            runner.run(exit_when_idle=True)
    for name in names:
        if not in_flight:
            manager.start_process(Process(workflow=ThreeSteps, id=name))
            # As separate workers would: each takes what is ready, until nothing is.
            while decider.step() | runner.step():
                pass
        assert not manager.process_by_id(name).is_open


def on_postgres(server: str, processes: int, in_flight: bool) -> Tally:
    from pyworkflow.backend.postgres import PostgresBackend

    tally = Tally()
    with scratch_database(server) as dsn:
        backend = PostgresBackend(dsn)
        # A first process outside the count: statements are prepared, caches warm.
        drive(backend, Tally(), 6)
        with counting_psycopg(tally):
            drive(backend, tally, processes, in_flight)
        backend.close()
    return tally


def on_sqlite(processes: int, in_flight: bool) -> Tally:
    from pyworkflow.backend.sqlite import SQLiteBackend

    tally = Tally()
    with tempfile.TemporaryDirectory() as folder, counting_sqlite(tally):
        backend = SQLiteBackend(str(Path(folder) / "bench.db"))
        drive(backend, Tally(), 6)
        drive(backend, tally, processes, in_flight)
        backend.close()
    return tally


def print_table(pg: Tally, lite: Tally, processes: int) -> None:
    header = (
        "operation",
        "calls/process",
        "PG statements/call",
        "PG round trips/call",
        "SQLite statements/call",
    )
    rows = [header]
    for name in OPERATIONS:
        calls = pg.calls[name] or 1
        lite_calls = lite.calls[name] or 1
        rows.append(
            (
                name,
                f"{pg.calls[name] / processes:.1f}",
                f"{pg.statements[name] / calls:.2f}",
                f"{pg.trips[name] / calls:.2f}",
                f"{lite.statements[name] / lite_calls:.2f}",
            )
        )
    rows.append(
        (
            "per process",
            "",
            f"{sum(pg.statements.values()) / processes:.1f}",
            f"{sum(pg.trips.values()) / processes:.1f}",
            f"{sum(lite.statements.values()) / processes:.1f}",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for index, row in enumerate(rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("| " + " | ".join(cells) + " |")
        if index == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=DEFAULT_SERVER, help="a server to make a database on")
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument(
        "--in-flight", action="store_true", help="start them all first; workers run their loops"
    )
    args = parser.parse_args()
    pg = on_postgres(args.dsn, args.processes, args.in_flight)
    lite = on_sqlite(args.processes, args.in_flight)
    how = "all in flight" if args.in_flight else "one at a time"
    print(f"{args.processes} three-activity processes ({how}), one heartbeat per activity")
    print_table(pg, lite, args.processes)


if __name__ == "__main__":
    main()
