"""SQLite backend benchmarks: throughput, idle latency, scale, worker footprint.

Run from anywhere: ``python benchmarks/sqlite_bench.py`` (``--quick`` for a
smaller run). Workers are separate OS processes on one database file, as in
production; every figure is a median (latency also gives p95). Prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_workers import STEPS, Row, ThreeStepWorkflow, idle_latency, manager_for  # noqa: E402

from pyworkflow.backend.sqlite import SQLiteBackend, SQLiteStore  # noqa: E402
from pyworkflow.decision import RecordMarker  # noqa: E402
from pyworkflow.engine import Engine  # noqa: E402
from pyworkflow.engine.records import ActivityRecord  # noqa: E402
from pyworkflow.events import SignalEvent  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.signal import Signal  # noqa: E402
from pyworkflow_cli.waiting import wait_closed  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

B = TypeVar("B", bound=Engine)


class WorkerProcess:
    def __init__(self, path: Path | str, kind: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "benchmarks" / "bench_workers.py"), str(path), kind],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{kind} worker did not start")

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


@contextmanager
def workers(path: Path | str, *kinds: str) -> Iterator[list[WorkerProcess]]:
    started = [WorkerProcess(path, kind) for kind in kinds]
    try:
        yield started
    finally:
        for worker in started:
            worker.stop()


def open_count(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COUNT(*) FROM runs WHERE status = 'open'").fetchone()[0])


def throughput(directory: Path, count: int) -> list[Row]:
    path = directory / "throughput.sqlite3"
    manager = manager_for(str(path))
    for index in range(count):
        manager.start_process(Process(workflow=ThreeStepWorkflow, id=f"p{index}"))
    manager.backend.close()
    watcher = sqlite3.connect(path)
    with workers(path, "decision", "activity") as (decider, runner):
        started = time.perf_counter()
        decider.go()
        runner.go()
        while open_count(watcher):
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
    completed = watcher.execute("SELECT COUNT(*) FROM runs WHERE status = 'completed'").fetchone()
    watcher.close()
    assert completed[0] == count, f"only {completed[0]} of {count} completed"
    tasks = count * (2 * STEPS + 1)
    return [
        (
            f"throughput, {count} processes x {STEPS} activities",
            f"{count / elapsed:,.0f} processes/s",
            ">= 300 processes/s",
        ),
        ("", f"{tasks / elapsed:,.0f} tasks/s", f"({tasks} tasks in {elapsed:.2f} s)"),
    ]


def latency_and_footprint(directory: Path, samples: int, long_samples: int) -> list[Row]:
    path = directory / "latency.sqlite3"
    manager = manager_for(str(path))
    watcher = sqlite3.connect(path)
    query = "SELECT 1 FROM runs WHERE process_id = ? AND status = 'completed'"
    with workers(path, "decision", "activity") as started:
        for worker in started:
            worker.go()
        rows = idle_latency(
            manager,
            lambda process_id: watcher.execute(query, (process_id,)).fetchone() is not None,
            ((0.1, samples), (2.0, long_samples)),
            "p50 < 30 ms",
        )
        # As `pyworkflow process wait` watches: its own loop, on the backend it opens.
        reader = Manager(_reader_backend(path), [])
        rows += idle_latency(
            manager,
            lambda process_id: not wait_closed(reader, process_id).is_open,
            ((0.1, samples), (2.0, long_samples)),
            "watched as `process wait` does",
        )
        reader.backend.close()
        time.sleep(1.0)
        before = [worker.cpu_seconds() for worker in started]
        idle_for = 10.0
        time.sleep(idle_for)
        idle_cpu = [
            (worker.cpu_seconds() - start) / idle_for
            for worker, start in zip(started, before, strict=True)
        ]
        rss = [worker.rss_mb() for worker in started]
    watcher.close()
    manager.backend.close()
    return [
        *rows,
        (
            "worker RSS (decision, activity)",
            f"{rss[0]:.1f} MB, {rss[1]:.1f} MB",
            "after the latency runs",
        ),
        (
            "worker idle CPU (decision, activity)",
            f"{idle_cpu[0] * 100:.2f} %, {idle_cpu[1] * 100:.2f} %",
            f"of one core, over {idle_for:.0f} s idle",
        ),
    ]


def _reader_backend(path: Path) -> SQLiteBackend:
    """The backend `pyworkflow process wait` opens: for reading only."""
    return SQLiteBackend(path, readonly=True)


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        begin = time.perf_counter()
        action()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings) * 1000


def _backend(path: Path) -> SQLiteBackend:
    return _registered(SQLiteBackend(path))


def _registered(backend: B) -> B:
    """``backend`` knowing the benchmark's workflow and activity, as a worker's would."""
    backend.register_workflow(ThreeStepWorkflow.name)
    backend.register_activity("Increment", scheduled_timeout=3600)
    return backend


def _fill(backend: Engine, count: int) -> None:
    """Open ``count`` processes, each with a decision and an activity waiting.

    Written in large transactions through the engine's own step for opening a run,
    so that building 100,000 processes takes seconds, not minutes.
    """
    workflow = backend.registry.workflow(ThreeStepWorkflow.name)
    batch = 5000
    for first in range(0, count, batch):
        now = backend.clock()

        def fill(tx: Any, first: int = first, now: datetime = now) -> None:
            for index in range(first, min(count, first + batch)):
                run = backend._open_run(tx, workflow, f"p{index}", 0, [], now, parent=None)
                tx.insert_activity(
                    ActivityRecord(
                        run_id=run.run_id,
                        process_id=run.process_id,
                        activity_id="step-1",
                        activity="Increment",
                        category="default",
                        scheduled_at=now,
                        schedule_deadline=now + timedelta(hours=1),
                        execution_timeout=3600,
                        heartbeat_timeout=3600,
                        input=0,
                    )
                )

        backend.store.run(fill)


def _activity_like(record: ActivityRecord, number: int) -> ActivityRecord:
    """A fresh scheduled copy of ``record`` under a new id: it joins the queue's end."""
    return dataclasses.replace(
        record,
        activity_id=f"again-{number}",
        state="scheduled",
        token=None,
        attempt=0,
        started_at=None,
        execution_deadline=None,
        heartbeat_deadline=None,
    )


class StatementCounter(Protocol):
    """Statements the calling thread's connection has run so far; only differences count."""

    count: int


class _StatementCounter:
    """Counts the statements the calling thread's connection runs (a trace callback)."""

    def __init__(self, backend: SQLiteBackend) -> None:
        self.count = 0
        store = backend.store
        assert isinstance(store, SQLiteStore)
        store._connection().set_trace_callback(self._seen)

    def _seen(self, statement: str) -> None:
        self.count += 1


class ClaimBench:
    """``backend`` filled with ``size`` open processes, whose claims are timed one by
    one; each claimed task is put back (untimed) so the queues keep their length.

    Any backend will do, so that SQLite and PostgreSQL are measured by the same code;
    ``counter``, if given, also counts each claim's statements."""

    def __init__(self, backend: Engine, size: int, counter: StatementCounter | None = None) -> None:
        self.size = size
        self.backend = _registered(backend)
        _fill(self.backend, size)
        self.counter = counter
        self.timings: dict[str, list[float]] = {"decision": [], "activity": []}
        self.statements: dict[str, list[int]] = {"decision": [], "activity": []}
        self._again = 0

    def _timed(self, kind: str, claim: Callable[[], Any]) -> Any:
        before = self._statements_so_far()
        begin = time.perf_counter()
        task = claim()
        self.timings[kind].append(time.perf_counter() - begin)
        self.statements[kind].append(self._statements_so_far() - before)
        assert task is not None, f"no {kind} task to claim at {self.size}"
        return task

    def _statements_so_far(self) -> int:
        return self.counter.count if self.counter else 0

    def forget(self) -> None:
        """Drop what was measured so far: the warm-up's claims."""
        for kind in self.timings:
            self.timings[kind].clear()
            self.statements[kind].clear()

    def claims(self, count: int) -> None:
        backend = self.backend
        for _ in range(count):
            task = self._timed("decision", backend.poll_decision_task)
            backend.complete_decision_task(task, [])
            backend.signal_process(task.process.id, "again")
            task = self._timed("activity", backend.poll_activity_task)
            self._again += 1
            number = self._again

            def put_back(
                tx: Any,
                run_id: str = task.context["run_id"],
                activity_id: str = task.activity_execution.id,
                number: int = number,
            ) -> None:
                record = tx.get_activity(run_id, activity_id)
                tx.delete_activity(run_id, activity_id)
                tx.insert_activity(_activity_like(record, number))

            backend.store.run(put_back)


def claim_cost(directory: Path, sizes: tuple[int, int], rounds: int, per_round: int) -> list[Row]:
    """Claiming from SQLite databases of ``sizes`` open processes, compared."""
    benches = [_sqlite_claim_bench(directory / f"claim-{size}.sqlite3", size) for size in sizes]
    return compare_claims(benches, rounds, per_round)


def _sqlite_claim_bench(path: Path, size: int) -> ClaimBench:
    backend = SQLiteBackend(path)
    return ClaimBench(backend, size, _StatementCounter(backend))


def compare_claims(benches: list[ClaimBench], rounds: int, per_round: int) -> list[Row]:
    """Two benches, both built first, then measured in alternating rounds, so that
    what else the machine does falls on both alike; medians of every claim. The
    benches' backends are closed at the end."""
    for bench in benches:  # warm both caches before timing
        bench.claims(5)
        bench.forget()
    for number in range(rounds):
        for bench in benches if number % 2 == 0 else reversed(benches):
            bench.claims(per_round)
    small, large = benches
    rows: list[Row] = []
    for kind in ("decision", "activity"):
        low, high = (statistics.median(b.timings[kind]) * 1000 for b in benches)
        rows.append(
            (
                f"claim {kind} task, {small.size:,} vs {large.size:,} open",
                f"{low:.3f} ms vs {high:.3f} ms",
                f"x{high / low:.2f}, {len(small.timings[kind])} claims each, interleaved",
            )
        )
        if small.counter is None or large.counter is None:
            continue
        rows.append(
            (
                f"  statements per {kind} claim",
                f"{statistics.median(small.statements[kind]):g} vs "
                f"{statistics.median(large.statements[kind]):g}",
                "the call's whole transaction, BEGIN to COMMIT",
            )
        )
    for bench in benches:
        bench.backend.close()
    return rows


def decision_cost(directory: Path, lengths: tuple[int, int], repeat: int) -> list[Row]:
    results: dict[int, tuple[float, float]] = {}
    for length in lengths:
        backend = _backend(directory / f"history-{length}.sqlite3")
        backend.start_process(Process(workflow=ThreeStepWorkflow, id="long"))
        now = backend.clock()

        def fill(tx: Any, length: int = length, now: datetime = now) -> None:
            run = tx.get_open_run("long")
            assert run is not None
            filler = [SignalEvent(Signal("tick", {"n": n}), now) for n in range(length - 1)]
            tx.append_events(run, filler)

        backend.store.run(fill)
        claims, completes = [], []
        for _ in range(repeat):
            begin = time.perf_counter()
            task = backend.poll_decision_task()
            assert task is not None
            claimed = time.perf_counter()
            backend.complete_decision_task(task, [RecordMarker("seen", len(task.process.history))])
            claims.append(claimed - begin)
            completes.append(time.perf_counter() - claimed)
            backend.signal_process("long", "again")
        results[length] = (statistics.median(claims) * 1000, statistics.median(completes) * 1000)
        backend.close()
    short, long = lengths
    (claim_s, complete_s), (claim_l, complete_l) = results[short], results[long]
    return [
        (
            f"one decision, history {short:,} vs {long:,}",
            f"{claim_s + complete_s:.2f} ms vs {claim_l + complete_l:.2f} ms",
            f"x{(claim_l + complete_l) / (claim_s + complete_s):.1f}",
        ),
        (
            "  of which claim (reads, decodes the history)",
            f"{claim_s:.2f} ms vs {claim_l:.2f} ms",
            f"x{claim_l / claim_s:.1f}, {(claim_l - claim_s) * 1000 / (long - short):.1f} us/event",
        ),
        (
            "  of which complete (history not read)",
            f"{complete_s:.2f} ms vs {complete_l:.2f} ms",
            f"x{complete_l / complete_s:.1f}: CPU caches cold after the decode",
        ),
    ]


def print_table(rows: list[Row]) -> None:
    headers = ("measure", "result", "note")
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(3)]
    line = "+".join("-" * (width + 2) for width in widths)
    print(f"+{line}+")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print(f"+{line}+")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"+{line}+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only", action="append", metavar="MEASURE", help="run only this measure (repeatable)"
    )
    args = parser.parse_args()
    count, samples, long_samples, scale, history, claim_rounds = (
        (200, 10, 3, 10_000, 500, 6) if args.quick else (2000, 100, 15, 100_000, 5000, 30)
    )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pyworkflow-bench-") as name:
        directory = Path(name)
        steps: list[tuple[str, Callable[[], list[Row]]]] = [
            ("throughput", lambda: throughput(directory, count)),
            ("latency", lambda: latency_and_footprint(directory, samples, long_samples)),
            (
                "claim cost",
                lambda: claim_cost(directory, (100, scale), rounds=claim_rounds, per_round=10),
            ),
            ("decision cost", lambda: decision_cost(directory, (10, history), repeat=20)),
        ]
        for title, step in steps:
            if args.only and title not in args.only:
                continue
            print(f"  running {title} ...", file=sys.stderr, flush=True)
            rows.extend(step())
    version = sys.version.split()[0]
    print(f"SQLite {sqlite3.sqlite_version}, Python {version}, {os.cpu_count()} cores")
    print_table(rows)


if __name__ == "__main__":
    main()
