"""Peer benchmark: pyworkflow against DBOS Transact on one workload, side by side.

``pip install -e '.[bench]'``, then ``python benchmarks/peer_bench.py`` (``--quick``
for a short run; ``--rounds``, ``--count``, ``--backend``, ``--dsn``, ``--costs``,
``--cpu``).

The workload: N three-step processes (default 500). pyworkflow runs
``bench_workers.ThreeStepWorkflow`` (three activities in sequence) with its
workers started as separate OS processes by the command, ``pyworkflow worker
decision --config ...`` and ``pyworkflow worker activity --config ...``: one of
each, then two of each. DBOS runs ``dbos_workers.three_steps`` (a workflow of
three ``@DBOS.step`` calls) from a queue, in as many worker processes as
pyworkflow has (2, then 4), so both get the same processes to spread over the
cores. A round's clock starts once every worker is ready (pyworkflow's workers
report READY=1 over $NOTIFY_SOCKET, as under systemd; DBOS's once its queue
thread runs) and stops when the client has seen the last of them end: the
client starts (enqueues) all N, then waits for each in turn. pyworkflow's client
waits as ``pyworkflow process wait`` does, through the same code
(``pyworkflow_cli.waiting.wait_closed`` on the command's ``App``); DBOS's is a
``DBOSClient`` that enqueues and calls ``handle.get_result()``.

Idle latency: with the 1+1 workers of a round, after its throughput run, one
process at a time is started after the workers sat idle for half a second and
timed until the client sees it end, watched in the same way.

Each round makes fresh databases: SQLite files in a temporary directory, and
PostgreSQL databases of their own on ``--dsn``'s server (dropped at the end).
Figures are medians over the rounds; the ratio is the median of each round's
pyworkflow/DBOS ratio, measured minutes apart at most.

DBOS settings (read from its source, ``dbos/_queue.py``, ``_client.py``,
``_sys_db_sqlite.py``), chosen to give it its best reasonable showing:

- Queue ``polling_interval_sec=0.02`` (``--dbos-queue-poll``). DBOS has no
  wake-up for queued work: every worker polls its queue at this interval (the
  default is 1 s, which would put half a second into every idle start, where
  pyworkflow's workers are woken by a write). 20 ms costs DBOS little
  throughput in our trials and brings its idle latency close to the database's.
- ``worker_concurrency`` unset (``--dbos-concurrency 0``): DBOS's default; one
  poll takes every runnable workflow and runs each in a thread. Limits of 10 per
  process measured the same within noise.
- The client's ``get_result(polling_interval_sec=0.01)`` (``--dbos-result-poll``;
  default 1 s). pyworkflow's wait starts at 5 ms and doubles to 0.5 s, woken
  early by a write on both backends.
- SQLite system database in WAL mode, set on the file before DBOS opens it: DBOS
  leaves SQLite's rollback journal as it is, under which readers and writers of
  several processes block each other; pyworkflow uses WAL. DBOS still takes
  every transaction with ``BEGIN IMMEDIATE`` and a 30 s busy timeout.
- PostgreSQL: DBOS's defaults (psycopg 3 through SQLAlchemy, LISTEN/NOTIFY on),
  on a database of its own as pyworkflow's.
- Log level WARNING on both sides, so neither writes a line per task; each DBOS
  process has an executor id of its own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psycopg
import sqlalchemy
from psycopg.conninfo import conninfo_to_dict

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCHMARKS))

import cpu_usage  # noqa: E402
import dbos_workers  # noqa: E402
from bench_workers import STEPS, Row, ThreeStepWorkflow  # noqa: E402
from postgres_bench import DEFAULT_SERVER, scratch_database  # noqa: E402
from postgres_bench import claim_cost as postgres_claim_cost  # noqa: E402
from sqlite_bench import claim_cost as sqlite_claim_cost  # noqa: E402
from sqlite_bench import decision_cost, print_table  # noqa: E402

from pyworkflow.process import Process  # noqa: E402
from pyworkflow_cli.app import App  # noqa: E402
from pyworkflow_cli.waiting import wait_closed  # noqa: E402

SQLITE, POSTGRES = "SQLite", "PostgreSQL"
WORKER_SETS = ((1, 1), (2, 2))  # decision and activity worker processes
IDLE_GAP = 0.5  # seconds the workers sit idle before each latency sample
STOP_TIMEOUT = 30


@dataclass(frozen=True)
class Settings:
    count: int
    rounds: int
    latency_samples: int
    server: str
    queue_poll: float
    concurrency: int
    result_poll: float
    cpu: bool = False


class Client(Protocol):
    def start(self, workflow_id: str) -> Any: ...

    def wait(self, handle: Any) -> None: ...

    def close(self) -> None: ...


# -- pyworkflow: the command's workers, the command's client code --------------------------


def _write_config(path: Path, backend: dict[str, str]) -> Path:
    lines = ["backend:", *(f"  {key}: '{value}'" for key, value in backend.items())]
    lines += ["workflows:", "  - bench_workers:ThreeStepWorkflow", "logging: {level: warning}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _pyworkflow_command() -> list[str]:
    found = shutil.which("pyworkflow", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "pyworkflow_cli"]


def with_benchmarks_path(environ: dict[str, str], tree: Path = REPO) -> dict[str, str]:
    paths = [str(tree / "benchmarks"), str(tree), environ.get("PYTHONPATH", "")]
    return dict(environ, PYTHONPATH=os.pathsep.join(path for path in paths if path))


@contextmanager
def pyworkflow_workers(
    config: Path, deciders: int, runners: int, tree: Path = REPO
) -> Iterator[dict[str, list[int]]]:
    """``pyworkflow worker ...`` processes, each polling once this yields their
    process ids by kind: they say READY=1 on a notify socket of ours, as they
    tell systemd. ``tree``: the checkout whose code they run (first on their path)."""
    with tempfile.TemporaryDirectory(prefix="pyworkflow-notify-") as directory:
        address = str(Path(directory) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(address)
            notify.settimeout(1.0)
            environ = with_benchmarks_path(dict(os.environ, NOTIFY_SOCKET=address), tree)
            kinds = ["decision"] * deciders + ["activity"] * runners
            started = [
                subprocess.Popen(
                    [*_pyworkflow_command(), "worker", kind, "--config", str(config)],
                    env=environ,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
                for kind in kinds
            ]
            try:
                ready, deadline = 0, time.monotonic() + 120
                while ready < len(started):
                    if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                        raise RuntimeError("a pyworkflow worker did not start")
                    try:
                        ready += notify.recv(4096).decode().splitlines().count("READY=1")
                    except TimeoutError:
                        continue
                pids: dict[str, list[int]] = {"decision": [], "activity": []}
                for kind, process in zip(kinds, started, strict=True):
                    pids[kind].append(process.pid)
                yield pids
            finally:
                _stop(started)


class PyworkflowClient:
    """Starts processes as ``process start`` does, and waits for each through the
    code ``process wait`` runs."""

    def __init__(self, config: Path) -> None:
        self.app = App(config_path=str(config))

    def start(self, workflow_id: str) -> str:
        return self.app.manager.start_process(Process(workflow=ThreeStepWorkflow, id=workflow_id))

    def wait(self, handle: Any) -> None:
        process = wait_closed(self.app.reader, handle)
        assert process.status == "completed", f"process {handle} ended {process.status}"

    def close(self) -> None:
        self.app.close()


# -- DBOS: queue workers in processes of their own, a DBOSClient ---------------------------


@contextmanager
def dbos_workers_running(url: str, count: int, settings: Settings) -> Iterator[None]:
    arguments = [str(settings.queue_poll), str(settings.concurrency)]
    script = str(BENCHMARKS / "dbos_workers.py")
    started = [
        subprocess.Popen(
            [sys.executable, script, url, f"executor-{index}", *arguments],
            env=with_benchmarks_path(dict(os.environ)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(count)
    ]
    try:
        for process in started:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("a DBOS worker did not start")
        yield
    finally:
        _stop(started)


def _stop(started: list[subprocess.Popen[Any]]) -> None:
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


# -- storage: fresh for every run -----------------------------------------------------------


@dataclass
class Storage:
    """Where one run of each side keeps its data, made and dropped by the benchmark."""

    backend: str
    directory: Path
    server: str
    _counter: list[int] = field(default_factory=lambda: [0])

    def _next(self) -> int:
        self._counter[0] += 1
        return self._counter[0]

    @contextmanager
    def pyworkflow(self) -> Iterator[Path]:
        """A config for a new, empty pyworkflow database."""
        index = self._next()
        if self.backend == SQLITE:
            database = self.directory / f"pyworkflow-{index}.db"
            yield _write_config(
                self.directory / f"pyworkflow-{index}.yaml",
                {"type": "sqlite", "path": str(database)},
            )
            return
        with scratch_database(self.server) as dsn:
            yield _write_config(
                self.directory / f"pyworkflow-{index}.yaml", {"type": "postgres", "dsn": dsn}
            )

    @contextmanager
    def dbos(self) -> Iterator[str]:
        """The URL of a new, empty DBOS system database."""
        index = self._next()
        if self.backend == SQLITE:
            path = self.directory / f"dbos-{index}.sqlite"
            with sqlite3.connect(path) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
            yield f"sqlite:///{path}"
            return
        with scratch_database(self.server) as dsn:
            parts = {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
            url = sqlalchemy.engine.URL.create(
                "postgresql",
                username=parts.get("user"),
                password=parts.get("password"),
                host=parts.get("host"),
                port=int(parts["port"]) if parts.get("port") else None,
                database=parts.get("dbname"),
            )
            yield url.render_as_string(hide_password=False)


# -- measuring ------------------------------------------------------------------------------


def drive(client: Client, count: int) -> float:
    """Processes per second: start ``count``, then wait for each in turn."""
    begin = time.perf_counter()
    handles = [client.start(f"p{index}") for index in range(count)]
    for handle in handles:
        client.wait(handle)
    return count / (time.perf_counter() - begin)


def idle_latencies(client: Client, samples: int) -> list[float]:
    """Seconds from start to seen ended, one process at a time after an idle gap."""
    timings = []
    for index in range(samples):
        time.sleep(IDLE_GAP)
        begin = time.perf_counter()
        client.wait(client.start(f"latency-{index}"))
        timings.append(time.perf_counter() - begin)
    return timings


@dataclass
class Cell:
    """One system on one backend with one set of workers, over the rounds."""

    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # Per round, milliseconds of CPU per process by who spent them (pyworkflow, --cpu).
    cpu: list[dict[str, float]] = field(default_factory=list)


def run_pyworkflow(
    storage: Storage, workers: tuple[int, int], settings: Settings, cell: Cell, latency: bool
) -> None:
    with ExitStack() as stack:
        config = stack.enter_context(storage.pyworkflow())
        client = PyworkflowClient(config)
        stack.callback(client.close)
        client.app.backend  # noqa: B018 - the client opens (and makes) its database first
        pids = stack.enter_context(pyworkflow_workers(config, *workers))
        server = storage.backend == POSTGRES
        before = cpu_usage.snapshot(pids, server) if settings.cpu else None
        cell.rates.append(drive(client, settings.count))
        if before is not None:
            after = cpu_usage.snapshot(pids, server)
            cell.cpu.append(cpu_usage.per_process(before, after, settings.count))
        if latency:
            cell.latencies += idle_latencies(client, settings.latency_samples)


def run_dbos(
    storage: Storage, workers: tuple[int, int], settings: Settings, cell: Cell, latency: bool
) -> None:
    with ExitStack() as stack:
        url = stack.enter_context(storage.dbos())
        # Workers first: the first one to launch makes DBOS's tables.
        stack.enter_context(dbos_workers_running(url, sum(workers), settings))
        client = dbos_workers.Client(url, settings.result_poll)
        stack.callback(client.close)
        cell.rates.append(drive(client, settings.count))
        if latency:
            cell.latencies += idle_latencies(client, settings.latency_samples)


Key = tuple[str, str, tuple[int, int]]  # backend, system, workers
Runner = Callable[[Storage, tuple[int, int], Settings, Cell, bool], None]
SYSTEMS: tuple[tuple[str, Runner], ...] = (("pyworkflow", run_pyworkflow), ("DBOS", run_dbos))


def measure(backends: list[str], settings: Settings) -> dict[Key, Cell]:
    cells: dict[Key, Cell] = {}
    with tempfile.TemporaryDirectory(prefix="pyworkflow-peer-bench-") as name:
        for round_ in range(settings.rounds):
            # Alternate who goes first, so neither always meets a warmer machine.
            systems = SYSTEMS if round_ % 2 == 0 else SYSTEMS[::-1]
            for backend in backends:
                # A directory of its own: no file of an earlier round is reused.
                directory = Path(tempfile.mkdtemp(dir=name))
                storage = Storage(backend, directory, settings.server)
                for workers in WORKER_SETS:
                    for system, run in systems:
                        cell = cells.setdefault((backend, system, workers), Cell())
                        label = f"round {round_ + 1}: {system} on {backend}, {_workers(workers)}"
                        print(f"  {label} ...", file=sys.stderr, flush=True)
                        run(storage, workers, settings, cell, workers == WORKER_SETS[0])
                        print(f"    {cell.rates[-1]:,.1f}/s", file=sys.stderr, flush=True)
    return cells


def _workers(workers: tuple[int, int]) -> str:
    deciders, runners = workers
    return f"{deciders}+{runners}"


def _percentiles(timings: list[float]) -> str:
    if not timings:
        return "-"
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered) * 1000:.0f} / {p95 * 1000:.0f} ms"


def table(cells: dict[Key, Cell], backends: list[str]) -> None:
    headers = (
        "backend",
        "workers",
        "pyworkflow processes/s",
        "DBOS workflows/s",
        "ratio",
        "pyworkflow idle p50 / p95",
        "DBOS idle p50 / p95",
    )
    rows = []
    for backend in backends:
        for workers in WORKER_SETS:
            ours = cells[(backend, "pyworkflow", workers)]
            theirs = cells[(backend, "DBOS", workers)]
            ratios = [a / b for a, b in zip(ours.rates, theirs.rates, strict=True)]
            rows.append(
                (
                    backend,
                    f"{_workers(workers)} ({sum(workers)} DBOS)",
                    f"{statistics.median(ours.rates):,.1f}",
                    f"{statistics.median(theirs.rates):,.1f}",
                    f"{statistics.median(ratios):.2f}x",
                    _percentiles(ours.latencies),
                    _percentiles(theirs.latencies),
                )
            )
    print_markdown(headers, rows)


def print_markdown(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (width + 2) for width in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def cpu_table(cells: dict[Key, Cell], backends: list[str]) -> None:
    """pyworkflow's CPU per process by who spent it, and the throughput the
    machine's cores would allow at that cost, beside the throughput measured."""
    spenders = ("decision workers", "activity workers", "client", "server")
    headers = ("backend", "workers", *spenders, "total", "cores' ceiling", "measured")
    cores = os.cpu_count() or 1
    rows = []
    for backend in backends:
        for workers in WORKER_SETS:
            cell = cells[(backend, "pyworkflow", workers)]
            if not cell.cpu:
                continue
            spent = {who: statistics.median(round_[who] for round_ in cell.cpu) for who in spenders}
            total = statistics.median(sum(round_[who] for who in spenders) for round_ in cell.cpu)
            rows.append(
                (
                    backend,
                    _workers(workers),
                    *(f"{spent[who]:.2f} ms" if spent[who] else "-" for who in spenders),
                    f"{total:.2f} ms",
                    f"{cores * 1000 / total:,.0f}/s",
                    f"{statistics.median(cell.rates):,.1f}/s",
                )
            )
    print(f"pyworkflow's CPU per process ({cores} cores; medians of the rounds):")
    print_markdown(headers, rows)


def costs(quick: bool, server: str) -> list[Row]:
    """The claim-cost rows of both backends, side by side, then sqlite_bench's
    history-cost rows, for one report; PostgreSQL's databases are made on ``server``."""
    scale, history, rounds = (10_000, 500, 6) if quick else (100_000, 5000, 30)
    sizes = (100, scale)
    with tempfile.TemporaryDirectory(prefix="pyworkflow-peer-bench-costs-") as name:
        directory = Path(name)
        return [
            *_on(SQLITE, sqlite_claim_cost(directory, sizes, rounds, per_round=10)),
            *_on(POSTGRES, postgres_claim_cost(server, sizes, rounds, per_round=10)),
            *_on(SQLITE, decision_cost(directory, (10, history), repeat=20)),
        ]


def _on(backend: str, rows: list[Row]) -> list[Row]:
    """``rows`` with the backend named on each measure (its indented parts stay as
    they are), since both backends' rows read alike."""
    return [
        (measure if measure.startswith(" ") else f"{backend}: {measure}", result, note)
        for measure, result, note in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 processes, one round")
    parser.add_argument("--rounds", type=int, help="rounds to take medians over [3]")
    parser.add_argument("--count", type=int, help="processes per throughput run [500]")
    parser.add_argument(
        "--backend", choices=(SQLITE, POSTGRES), action="append", help="only this (repeatable)"
    )
    parser.add_argument("--dsn", default=DEFAULT_SERVER, help="a server to make databases on")
    parser.add_argument("--dbos-queue-poll", type=float, default=0.02, metavar="SECONDS")
    parser.add_argument("--dbos-result-poll", type=float, default=0.01, metavar="SECONDS")
    parser.add_argument(
        "--dbos-concurrency", type=int, default=0, metavar="N", help="per process; 0: no limit"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also pyworkflow's CPU per process by workers, client and server (Linux)",
    )
    parser.add_argument(
        "--costs",
        action="store_true",
        help="also the claim-cost rows of both backends and sqlite_bench's history-cost rows",
    )
    args = parser.parse_args()
    settings = Settings(
        count=args.count or (100 if args.quick else 500),
        rounds=args.rounds or (1 if args.quick else 3),
        latency_samples=5 if args.quick else 20,
        server=args.dsn,
        queue_poll=args.dbos_queue_poll,
        concurrency=args.dbos_concurrency,
        result_poll=args.dbos_result_poll,
        cpu=args.cpu and cpu_usage.available(),
    )
    backends = args.backend or [SQLITE, POSTGRES]
    cells = measure(backends, settings)
    with psycopg.connect(args.dsn) as connection:
        version = connection.info.server_version
    print(
        f"{settings.count} processes x {STEPS} steps, medians of {settings.rounds} round(s); "
        f"idle latency {settings.latency_samples} samples a round, 1+1 workers. "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {version // 10000}.{version % 10000}, "
        f"DBOS {_dbos_version()}, Python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    table(cells, backends)
    if settings.cpu:
        cpu_table(cells, backends)
    if args.costs:
        print_table(costs(args.quick, args.dsn))


def _dbos_version() -> str:
    from importlib.metadata import version

    return version("dbos")


if __name__ == "__main__":
    main()
