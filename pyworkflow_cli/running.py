"""Run workers until they stop, each in its own thread, the main thread left
free to take signals."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .signals import graceful_stop

if TYPE_CHECKING:
    from pyworkflow.worker import Worker


def run_workers(
    workers: Sequence[Worker],
    max_tasks: int | None = None,
    exit_when_idle: bool = False,
    on_started: Callable[[], None] = lambda: None,
) -> int:
    """Run ``workers`` until stopped by a signal, ``max_tasks`` each, or idle.

    ``on_started`` is called once the workers run and the stop signals are
    handled: from then on a stop signal is a graceful stop.

    Returns the number of tasks handled. A worker that crashes (a bug in the
    loop, not a task failing) stops the others and is re-raised.
    """
    if exit_when_idle and len(workers) > 1:
        return _drain(workers, max_tasks, on_started)
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
        on_started()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    if errors:
        raise errors[0]
    return sum(worker.tasks_handled for worker in workers)


def _drain(workers: Sequence[Worker], max_tasks: int | None, on_started: Callable[[], None]) -> int:
    """Several workers until none of them finds a task.

    Each worker idling on its own would not do: a decision is work for the
    activity worker that found nothing a moment before. So they take turns,
    one task at a time, until a full turn finds nothing.
    """
    handled = dict.fromkeys(range(len(workers)), 0)
    stopping = threading.Event()
    with graceful_stop(stopping.set):
        on_started()
        while not stopping.is_set():
            progressed = False
            for index, worker in enumerate(workers):
                if stopping.is_set() or (max_tasks is not None and handled[index] >= max_tasks):
                    continue
                if worker.step():
                    handled[index] += 1
                    progressed = True
            if not progressed:
                break
    return sum(handled.values())
