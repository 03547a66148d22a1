"""Amazon SWF backend on moto's server: processes per second and SWF calls per process.

Run from anywhere: ``python benchmarks/swf_bench.py`` (``--processes N``). One
activity worker and one decision worker run in threads against moto over HTTP;
each round starts N seed-example processes at once and waits for all of them.
moto answers an empty poll after about a second and has no real long poll, so
the figures show the backend's own cost (calls, Python time), not SWF's latency.
Prints a table of medians over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyworkflow.examples.multiplication import FooWorkflow  # noqa: E402
from pyworkflow.manager import Manager  # noqa: E402
from pyworkflow.process import Process  # noqa: E402
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread  # noqa: E402
from tests.swf_server import moto_server, swf_backend  # noqa: E402


def one_round(manager: Manager, calls: Counter[str], processes: int) -> tuple[float, Counter[str]]:
    calls.clear()
    started = time.perf_counter()
    ids = [
        manager.start_process(Process(workflow=FooWorkflow, input=[2, 3])) for _ in range(processes)
    ]
    pending = set(ids)
    while pending:
        pending = {pid for pid in pending if manager.process_by_id(pid).is_open}
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    return processes / elapsed, Counter(calls)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args(argv)
    with moto_server() as url, swf_backend(url) as backend:
        calls: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        backend.client.meta.events.register("before-call.swf", count)
        manager = Manager(backend=backend, workflows=[FooWorkflow])
        threads = [WorkerThread(ActivityWorker(manager)), WorkerThread(DecisionWorker(manager))]
        for thread in threads:
            thread.start()
        rates, counts = [], []
        try:
            for _ in range(options.rounds):
                rate, counted = one_round(manager, calls, options.processes)
                rates.append(rate)
                counts.append(counted)
        finally:
            for thread in threads:
                thread.join(30)
    per_process = {
        name: statistics.median(c[name] for c in counts) / options.processes
        for name in sorted({name for c in counts for name in c})
    }
    print(f"{'measure':<44} {'median':>10}")
    print(f"{'processes per second':<44} {statistics.median(rates):>10.2f}")
    work = {k: v for k, v in per_process.items() if not k.startswith(("Poll", "List", "Get"))}
    print(f"{'SWF calls per process (work, excl. polls/reads)':<44} {sum(work.values()):>10.2f}")
    for name, value in per_process.items():
        print(f"{'  ' + name:<44} {value:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
