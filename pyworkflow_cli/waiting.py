"""Wait for a process to close, however far away its workers run.

The process is re-read whenever the backend says a run may have closed (on
PostgreSQL, a notification of a closing; on memory and SQLite, any write), and
at least every half second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pyworkflow.backend.base import RUNS_CLOSED

if TYPE_CHECKING:
    from pyworkflow.manager import Manager
    from pyworkflow.process import Process

MAX_WAIT = 0.5


def wait_closed(manager: Manager, process_id: str, timeout: float | None = None) -> Process:
    """The process once closed, or as it stands when ``timeout`` seconds have passed."""
    deadline = None if timeout is None else time.monotonic() + timeout
    wait = 0.005
    while True:
        process = manager.process_by_id(process_id)
        if not process.is_open:
            return process
        remaining = MAX_WAIT if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            return process
        pause = min(wait, remaining, MAX_WAIT)
        try:
            manager.backend.wait_for_work(pause, RUNS_CLOSED)
        except Exception:
            time.sleep(pause)
        wait = min(wait * 2, MAX_WAIT)
