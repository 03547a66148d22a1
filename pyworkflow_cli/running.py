"""Run workers until they stop, each in its own thread, the main thread left
free to take signals."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .signals import graceful_stop

if TYPE_CHECKING:
    from pyworkflow.worker import Worker


def run_workers(
    workers: Sequence[Worker], max_tasks: int | None = None, exit_when_idle: bool = False
) -> int:
    """Run ``workers`` until stopped by a signal, ``max_tasks`` each, or idle.

    Returns the number of tasks handled. With several workers, "idle" means
    all of them at once: a decision worker's decision is work for the activity
    worker that found nothing a moment before, so they run again in rounds
    until a round in which none handled a task. A worker that crashes (a bug
    in the loop, not a task failing) stops the others and is re-raised.
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

    def handled() -> int:
        return sum(worker.tasks_handled for worker in workers)

    with graceful_stop(stop_all) as stopping:
        while True:
            before = handled()
            threads = [
                threading.Thread(target=target, args=(worker,), name=f"{worker.kind}-worker")
                for worker in workers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
            if errors:
                raise errors[0]
            rounds_matter = exit_when_idle and len(workers) > 1
            if not rounds_matter or stopping.is_set() or handled() == before:
                break
            if max_tasks is not None and all(w.tasks_handled >= max_tasks for w in workers):
                break
    return handled()
