"""Run workers until they stop, each in its own thread, the main thread left
free to take signals."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .signals import graceful_stop

if TYPE_CHECKING:
    from pyworkflow.worker import Worker

LOG = logging.getLogger("pyworkflow.cli")


class WorkerCrashed(Exception):
    pass


def run_workers(
    workers: Sequence[Worker], max_tasks: int | None = None, exit_when_idle: bool = False
) -> int:
    """Run ``workers`` until stopped by a signal, ``max_tasks`` each, or idle.

    Returns the number of tasks handled. A worker that crashes (not a task
    failing: a bug in the loop) stops the others and is re-raised.
    """
    errors: list[BaseException] = []

    def stop_all() -> None:
        for worker in workers:
            worker.stop()

    def target(worker: Worker) -> None:
        try:
            worker.run(max_tasks=max_tasks, exit_when_idle=exit_when_idle)
        except BaseException as error:  # re-raised in the main thread
            errors.append(error)
            stop_all()

    threads = [
        threading.Thread(target=target, args=(worker,), name=f"{worker.kind}-worker")
        for worker in workers
    ]
    with graceful_stop(stop_all):
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    if errors:
        raise errors[0]
    return sum(worker.tasks_handled for worker in workers)
