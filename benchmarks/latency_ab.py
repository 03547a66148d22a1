"""Idle latency of two versions of pyworkflow, side by side, samples interleaved.

``python benchmarks/latency_ab.py BASE [OTHER]`` compares the commit BASE (any git
revision) with OTHER (default: this working tree), on ``--backend`` (SQLite or
PostgreSQL, default PostgreSQL).

A change worth a millisecond or two of a process's idle latency is smaller than
this machine's drift from one minute to the next: two runs a minute apart on the
same code differ by more. So both versions run at once, each with its own 1+1
workers (started with the command, as in ``peer_bench.py``) on a database of its
own, and the samples alternate between them in small batches: whatever the
machine does meanwhile, both see it. A sample is ``peer_bench.py``'s idle latency:
one three-activity process started after the workers sat idle for half a second,
timed until the client, waiting as ``process wait`` does, sees it end. Each
version's client runs that version's code too, in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from peer_bench import (
    DEFAULT_SERVER,
    POSTGRES,
    REPO,
    SQLITE,
    STOP_TIMEOUT,
    Storage,
    print_markdown,
    pyworkflow_workers,
    with_benchmarks_path,
)


@contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """A detached worktree of ``revision``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="pyworkflow-ab-") as directory:
        tree = Path(directory) / "tree"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), revision],
            check=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False
            )


# A version's client, run by that version's code: it starts and waits as that
# version does. Each line it reads asks for that many samples; it answers them,
# in seconds, as one JSON line.
CLIENT = """
import json, sys
from pathlib import Path
from peer_bench import PyworkflowClient, idle_latencies
client = PyworkflowClient(Path(sys.argv[1]))
client.wait(client.start("warm-up"))
for line in sys.stdin:
    print(json.dumps(idle_latencies(client, int(line))), flush=True)
client.close()
"""


@contextmanager
def client_of(tree: Path, config: Path) -> Iterator[subprocess.Popen[str]]:
    environ = with_benchmarks_path(dict(os.environ), tree)
    client = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(config)],
        env=environ,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield client
    finally:
        assert client.stdin is not None
        client.stdin.close()
        client.wait(STOP_TIMEOUT)


def samples_of(client: subprocess.Popen[str], count: int) -> list[float]:
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(f"{count}\n")
    client.stdin.flush()
    answer = client.stdout.readline()
    if not answer:
        raise RuntimeError("a client ended early")
    return [seconds * 1000 for seconds in json.loads(answer)]


def compare(
    trees: dict[str, Path], backend: str, server: str, rounds: int, batch: int
) -> dict[str, list[float]]:
    """Milliseconds per sample for each version, ``rounds`` batches of ``batch`` each."""
    samples: dict[str, list[float]] = {name: [] for name in trees}
    with ExitStack() as stack:
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="pyworkflow-ab-"))
        storage = Storage(backend, Path(directory), server)
        clients = {}
        for name, tree in trees.items():
            config = stack.enter_context(storage.pyworkflow())
            stack.enter_context(pyworkflow_workers(config, 1, 1, tree))
            clients[name] = stack.enter_context(client_of(tree, config))
        for _ in range(rounds):
            for name, client in clients.items():
                samples[name] += samples_of(client, batch)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="a git revision: the version compared against")
    parser.add_argument("other", nargs="?", help="a git revision [this working tree]")
    parser.add_argument("--backend", choices=[SQLITE, POSTGRES], default=POSTGRES)
    parser.add_argument("--dsn", default=DEFAULT_SERVER, help="a server to make databases on")
    parser.add_argument("--rounds", type=int, default=6, help="batches per version [6]")
    parser.add_argument("--batch", type=int, default=8, help="samples per batch [8]")
    args = parser.parse_args()
    with ExitStack() as stack:
        trees = {args.base: stack.enter_context(checkout(args.base))}
        other = args.other or "working tree"
        trees[other] = stack.enter_context(checkout(args.other)) if args.other else REPO
        samples = compare(trees, args.backend, args.dsn, args.rounds, args.batch)
    base = statistics.median(samples[args.base])
    rows = []
    for name, timings in samples.items():
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
        ratio = f"{p50 / base:.2f}"
        rows.append((name, f"{p50:.1f} ms", f"{p95:.1f} ms", ratio, str(len(timings))))
    print(f"Idle latency, {args.backend}, 1+1 workers, samples interleaved:")
    print_markdown(("version", "p50", "p95", "p50 / base", "samples"), rows)


if __name__ == "__main__":
    main()
