"""PostgreSQL backend benchmarks: throughput, idle latency, claim and history cost.

``python benchmarks/postgres_bench.py [--dsn DSN] [--quick] [--claim-cost-only]``.
The DSN names a server (default: the local one, user postgres); the benchmark
makes databases of its own there and drops them at the end. Workers are
separate OS processes, as in production; figures are medians (latency also
gives p95). Prints a table.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_workers import STEPS, Row, ThreeStepWorkflow, backend_for, idle_latency, manager_for  # noqa: E402
from sqlite_bench import ClaimBench, compare_claims, print_table, workers  # noqa: E402

from pyworkflow.backend._postgres_pipeline import Pipeline  # noqa: E402
from pyworkflow.backend.postgres import PostgresBackend  # noqa: E402
from pyworkflow.decision import RecordMarker  # noqa: E402
from pyworkflow.events import SignalEvent  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.signal import Signal  # noqa: E402
from pyworkflow.worker import DecisionWorker  # noqa: E402
from pyworkflow.workflow import Workflow  # noqa: E402


class CountingWorkflow(Workflow):
    """Reads its whole history and records how long it is: nothing else."""

    def decide(self, process: Process) -> Any:
        return RecordMarker("seen", len(process.history))


DEFAULT_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``; its DSN. Dropped afterwards."""
    name = f"pyworkflow_bench_{secrets.token_hex(4)}"
    identifier = sql.Identifier(name)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    try:
        yield make_conninfo(server, dbname=name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(identifier))


def open_count(watcher: psycopg.Connection) -> int:
    row = watcher.execute("SELECT COUNT(*) FROM runs WHERE status = 'open'").fetchone()
    return int(row[0]) if row else 0


def throughput(server: str, count: int, deciders: int, runners: int) -> list[Row]:
    with scratch_database(server) as dsn:
        manager = manager_for(dsn)
        for index in range(count):
            manager.start_process(Process(workflow=ThreeStepWorkflow, id=f"p{index}"))
        manager.backend.close()
        with psycopg.connect(dsn, autocommit=True) as watcher:
            kinds = ["decision"] * deciders + ["activity"] * runners
            with workers(dsn, *kinds) as started:
                begin = time.perf_counter()
                for worker in started:
                    worker.go()
                while open_count(watcher):
                    time.sleep(0.005)
                elapsed = time.perf_counter() - begin
            row = watcher.execute("SELECT COUNT(*) FROM runs WHERE status = 'completed'")
            completed = row.fetchone()
    assert completed is not None and completed[0] == count, f"only {completed} completed"
    tasks = count * (2 * STEPS + 1)
    return [
        (
            f"throughput, {count} processes x {STEPS} activities, "
            f"{deciders} decider + {runners} activity worker processes",
            f"{count / elapsed:,.0f} processes/s",
            f"{tasks / elapsed:,.0f} tasks/s ({tasks} tasks in {elapsed:.2f} s)",
        ),
    ]


def latency(server: str, samples: int, long_samples: int) -> list[Row]:
    query = "SELECT 1 FROM runs WHERE process_id = %s AND status = 'completed'"
    with scratch_database(server) as dsn:
        manager = manager_for(dsn)
        with (
            psycopg.connect(dsn, autocommit=True) as watcher,
            workers(dsn, "decision", "activity") as started,
        ):
            for worker in started:
                worker.go()
            rows = idle_latency(
                manager,
                lambda process_id: watcher.execute(query, (process_id,)).fetchone() is not None,
                ((0.1, samples), (2.0, long_samples)),
                "1 decider + 1 activity worker process",
            )
            # As `process wait` watches: reading the process through the library.
            rows += idle_latency(
                manager,
                lambda process_id: not manager.process_by_id(process_id).is_open,
                ((0.1, samples),),
                "watched as `process wait` does",
            )
        manager.backend.close()
    return rows


class _StatementCounter:
    """Counts the statements the backend's connection sends, BEGIN and COMMIT
    included: every one of a store's transactions goes through its pipeline, which
    is wrapped for as long as the benchmark runs."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.count = 0
        connection = backend.store._connection()  # type: ignore[attr-defined]
        exchange = Pipeline._exchange

        def counted(pipeline: Pipeline, statements: Sequence[tuple[str, Any]]) -> Any:
            if pipeline._connection is connection:
                self.count += len(statements)
            return exchange(pipeline, statements)

        patch.object(Pipeline, "_exchange", counted).start()


def claim_cost(server: str, sizes: tuple[int, int], rounds: int, per_round: int) -> list[Row]:
    """Claiming from PostgreSQL databases of ``sizes`` open processes, compared as
    sqlite_bench compares SQLite's: a scratch database for each size."""
    with ExitStack() as databases:
        benches = [
            _postgres_claim_bench(databases.enter_context(scratch_database(server)), size)
            for size in sizes
        ]
        return compare_claims(benches, rounds, per_round)


def _postgres_claim_bench(dsn: str, size: int) -> ClaimBench:
    backend = PostgresBackend(dsn)
    return ClaimBench(backend, size, _StatementCounter(backend))


def decision_cost(server: str, lengths: tuple[int, int], repeat: int) -> list[Row]:
    """One decision (claim, decide, complete) through DecisionWorker, at two history
    lengths; the worker keeps the history it decided, as a long-lived worker does."""
    medians: dict[int, float] = {}
    for length in lengths:
        with scratch_database(server) as dsn:
            manager = Manager(backend_for(dsn), workflows=[CountingWorkflow])
            backend = manager.backend
            manager.start_process(Process(workflow=CountingWorkflow, id="long"))
            now = backend.clock()  # type: ignore[attr-defined]

            def fill(tx: Any, length: int = length, now: Any = now) -> None:
                run = tx.get_open_run("long")
                filler = [SignalEvent(Signal("tick", {"n": n}), now) for n in range(length - 1)]
                tx.append_events(run, filler)

            backend.store.run(fill)  # type: ignore[attr-defined]
            worker = DecisionWorker(manager)
            worker.step()  # the first decision reads the whole history
            times = []
            for _ in range(repeat):
                manager.signal_process("long", Signal("again"))
                begin = time.perf_counter()
                assert worker.step()
                times.append(time.perf_counter() - begin)
            medians[length] = statistics.median(times) * 1000
            backend.close()
    short, long = lengths
    return [
        (
            f"one decision through DecisionWorker, history {short:,} vs {long:,} events",
            f"{medians[short]:.2f} ms vs {medians[long]:.2f} ms",
            f"x{medians[long] / medians[short]:.2f} ({repeat} decisions each, medians)",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=DEFAULT_SERVER, help="a server to make a database on")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--decision-cost-only", action="store_true", help="only the history-length row"
    )
    only.add_argument(
        "--claim-cost-only", action="store_true", help="only the open-process-count rows"
    )
    args = parser.parse_args()
    count, samples, long_samples = (200, 10, 3) if args.quick else (1000, 100, 15)
    scale, claim_rounds = (10_000, 6) if args.quick else (100_000, 30)
    rows: list[Row] = []
    if not (args.decision_cost_only or args.claim_cost_only):
        for deciders, runners in ((1, 1), (2, 2)):
            print(f"  running throughput {deciders}+{runners} ...", file=sys.stderr, flush=True)
            rows.extend(throughput(args.dsn, count, deciders, runners))
        print("  running latency ...", file=sys.stderr, flush=True)
        rows.extend(latency(args.dsn, samples, long_samples))
    if not args.decision_cost_only:
        print("  running claim cost ...", file=sys.stderr, flush=True)
        rows.extend(claim_cost(args.dsn, (100, scale), rounds=claim_rounds, per_round=10))
    if not args.claim_cost_only:
        print("  running decision cost ...", file=sys.stderr, flush=True)
        rows.extend(decision_cost(args.dsn, (50, 5000), 20 if args.quick else 100))
    with psycopg.connect(args.dsn) as connection:
        version = connection.info.server_version
    host = conninfo_to_dict(args.dsn).get("host", "local socket")
    server = f"PostgreSQL {version // 10000}.{version % 10000} at {host}"
    print(
        f"{server}, psycopg {psycopg.__version__}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
