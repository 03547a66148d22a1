"""Drive one process to its end with workers inside this command.

One decision worker on the workflow's category and one activity worker per
category its activities use, so nothing it schedules is left waiting for a
worker that is not there.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING

import click

from .signals import graceful_stop
from .waiting import wait_closed

if TYPE_CHECKING:
    from pyworkflow.manager import Manager
    from pyworkflow.process import Process
    from pyworkflow.worker import Worker
    from pyworkflow.workflow import Workflow

STEP = 0.5


def embedded_workers(manager: Manager, workflow: type[Workflow], process_id: str) -> list[Worker]:
    """Workers for ``process_id`` and its children only: other processes pending on
    the same backend are left to the workers that serve them."""
    from pyworkflow.worker import ActivityWorker, DecisionWorker

    from .task_context import LogContextHook

    identity = f"{socket.gethostname()}:{os.getpid()}:run"
    hooks = [LogContextHook()]
    categories = sorted({activity.category for activity in workflow.activities})
    workers: list[Worker] = [
        DecisionWorker(
            manager,
            f"{identity}:decision",
            workflow.category,
            hooks=hooks,
            root_process=process_id,
        )
    ]
    workers += [
        ActivityWorker(
            manager,
            f"{identity}:activity:{category}",
            category,
            hooks=hooks,
            root_process=process_id,
        )
        for category in categories
    ]
    return workers


def drive(
    manager: Manager, process_id: str, workflow: type[Workflow], timeout: float | None
) -> Process:
    """The process once closed (or when ``timeout`` passed).

    Ctrl-C exits 130 and SIGTERM 143, once the tasks in hand are finished.
    """
    import time

    workers = embedded_workers(manager, workflow, process_id)
    threads = [threading.Thread(target=worker.run, daemon=True) for worker in workers]

    def stop_all() -> None:
        for worker in workers:
            worker.stop()

    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        with graceful_stop(stop_all) as interrupted:
            for thread in threads:
                thread.start()
            while True:
                remaining = STEP if deadline is None else min(STEP, deadline - time.monotonic())
                found = wait_closed(manager, process_id, max(remaining, 0))
                if not found.is_open or remaining <= 0:
                    break
                if interrupted.is_set():
                    _join(threads)
                    click.echo(
                        f"Interrupted: process {process_id} is still open; "
                        f"`pyworkflow process wait {process_id}` with workers running ends it.",
                        err=True,
                    )
                    raise click.exceptions.Exit(interrupted.exit_code)
    finally:
        stop_all()
    _join(threads)
    return found


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)
