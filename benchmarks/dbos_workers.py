"""DBOS Transact's side of the peer benchmark: the same workload, and a worker process.

``python benchmarks/dbos_workers.py URL EXECUTOR POLL CONCURRENCY`` launches DBOS on
the system database URL (``sqlite:///...`` or ``postgresql://...``), registers the
benchmark's queue, prints ``ready`` and runs queued workflows until SIGTERM. POLL is
the queue's polling interval in seconds; CONCURRENCY its per-process limit (0: none).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

from dbos import DBOS, DBOSClient, DBOSConfig, EnqueueOptions

APP = "peer-bench"
QUEUE = "peer-bench"
STEPS = 3  # as bench_workers.ThreeStepWorkflow; not imported, to keep pyworkflow out


@DBOS.step()
def increment(value: int) -> int:
    return value + 1


@DBOS.workflow()
def three_steps() -> int:
    """Three trivial steps in sequence, each checkpointed, as the pyworkflow side's
    three activities; the result is their total."""
    value = 0
    for _ in range(STEPS):
        value = increment(value)
    return value


WORKFLOW_NAME = three_steps.__qualname__


def config(url: str, executor: str) -> DBOSConfig:
    return {
        "name": APP,
        "system_database_url": url,
        "executor_id": executor,
        "log_level": "WARNING",  # as the pyworkflow workers: no line per task
    }


class Client:
    """Enqueues the workflow and waits for it as a DBOS application outside the
    workers does: a ``DBOSClient`` and ``handle.get_result()``."""

    def __init__(self, url: str, result_poll: float) -> None:
        self.client = DBOSClient(system_database_url=url, application_name=APP)
        self.result_poll = result_poll

    def start(self, workflow_id: str) -> Any:
        options: EnqueueOptions = {
            "queue_name": QUEUE,
            "workflow_name": WORKFLOW_NAME,
            "workflow_id": workflow_id,
        }
        return self.client.enqueue(options)

    def wait(self, handle: Any) -> None:
        result = handle.get_result(polling_interval_sec=self.result_poll)
        assert result == STEPS, f"workflow {handle.get_workflow_id()} returned {result!r}"

    def close(self) -> None:
        self.client.destroy()


def main(argv: list[str]) -> int:
    url, executor, poll, concurrency = argv
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    DBOS(config=config(url, executor))
    DBOS.launch()
    DBOS.register_queue(
        QUEUE,
        polling_interval_sec=float(poll),
        worker_concurrency=int(concurrency) or None,
        on_conflict="always_update",
    )
    # DBOS starts a queue's worker thread within a second of its registration;
    # ready means it polls, as a pyworkflow worker's READY=1 does.
    while not any(thread.name == f"queue-worker-{QUEUE}" for thread in threading.enumerate()):
        time.sleep(0.01)
    print("ready", flush=True)
    stop.wait()
    DBOS.destroy(workflow_completion_timeout_sec=5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
