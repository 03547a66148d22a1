"""CPU time spent by the processes of a benchmark run, read from Linux's ``/proc``.

Throughput on a machine of few cores is bounded by the CPU a process of the
workload costs across everything that serves it (workers, client, database
server): cores divided by that cost is the most the run could reach. peer_bench
reports it with ``--cpu``; elsewhere than Linux there is nothing to read and the
figures are left out.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return os.path.isdir("/proc/self/task")


def process_seconds(pid: int) -> float:
    """User and system CPU seconds of one process, its threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def server_seconds(command: str = "postgres") -> float:
    """CPU seconds of every process whose command is ``command`` (a database
    server's backends, which come and go with its connections)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() != command:
                    continue
            total += process_seconds(int(entry))
        except OSError:
            continue  # gone between the listing and the read
    return total


@dataclass
class Snapshot:
    workers: dict[str, float]  # kind -> CPU seconds of its worker processes
    client: float
    server: float


def snapshot(workers: dict[str, list[int]], with_server: bool) -> Snapshot:
    return Snapshot(
        workers={kind: sum(process_seconds(pid) for pid in pids) for kind, pids in workers.items()},
        client=time.process_time(),
        server=server_seconds() if with_server else 0.0,
    )


def per_process(before: Snapshot, after: Snapshot, count: int) -> dict[str, float]:
    """Milliseconds of CPU per workload process, by who spent them."""
    spent = {
        f"{kind} workers": (after.workers[kind] - before.workers[kind]) for kind in after.workers
    }
    spent["client"] = after.client - before.client
    spent["server"] = after.server - before.server
    return {who: seconds * 1000 / count for who, seconds in spent.items()}
