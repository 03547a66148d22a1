"""A worker hook that tells whether the workers are making progress.

Two things need to know: ``--exit-when-idle``, which must not report success
when the worker stopped because its backend could not be reached (a poll
failing looks idle to the loop), and the systemd watchdog, which should be fed
only while the loop is alive and reaching its backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pyworkflow.hooks import TaskInfo, WorkerHook


class PollHealth(WorkerHook):
    """Remembers how each worker's last poll went and when the loop last moved on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_failure: dict[str, BaseException | None] = {}
        self._tasks_in_hand = 0
        self._progress = time.monotonic()

    def around_task(self, info: TaskInfo, proceed: Callable[[], str]) -> str:
        with self._lock:
            self._tasks_in_hand += 1
        try:
            return proceed()
        finally:
            with self._lock:
                self._tasks_in_hand -= 1
                self._progress = time.monotonic()

    def poll_finished(self, worker: str, kind: str, got_task: bool) -> None:
        with self._lock:
            self._last_failure[worker] = None
            self._progress = time.monotonic()

    def poll_failed(self, worker: str, kind: str, error: BaseException) -> None:
        with self._lock:
            self._last_failure[worker] = error

    def last_poll_failure(self) -> BaseException | None:
        """The error of a worker whose latest poll failed, if any worker's did."""
        with self._lock:
            return next((e for e in self._last_failure.values() if e is not None), None)

    def progressed_within(self, seconds: float) -> bool:
        """A task is in hand, or a poll reached the backend in the last ``seconds``.

        A long task counts as progress: its own heartbeat timeout watches it.
        """
        with self._lock:
            return self._tasks_in_hand > 0 or time.monotonic() - self._progress <= seconds
