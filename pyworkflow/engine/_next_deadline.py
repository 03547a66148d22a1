"""The store's earliest deadline, as an idle worker's wait asks for it.

A waiting worker asks once per slice of its wait (0.1 s, so that a stop takes
effect promptly): on a shared PostgreSQL server that was ten queries a second
for every worker thread with nothing to do. The answer changes only with a
write, so it is kept until this process writes, news of another's write
arrives, or ``refresh`` seconds pass: the last bounds how late a deadline that
another process set without news (a claim's timeout, a heartbeat's) is seen by
a worker that is waiting anyway, and is no longer than a worker's longest
wait between polls, each of which sweeps what is due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

DEFAULT_REFRESH = 1.0


class NextDeadline:
    def __init__(
        self, read: Callable[[], datetime | None], refresh: float = DEFAULT_REFRESH
    ) -> None:
        self._read = read
        self.refresh = refresh
        # When it was read (monotonic seconds) and what it was; None: read again.
        self._kept: tuple[float, datetime | None] | None = None
        # Counts forgets: an answer read across one (another thread wrote while it
        # was asked) may predate that write, and is used but not kept.
        self._writes = 0
        # Makes "no forget since the read" and "keep it" one step: a forget between
        # the two would otherwise be overwritten by the answer it made stale.
        self._lock = threading.Lock()

    def get(self) -> datetime | None:
        kept = self._kept
        if kept is not None and time.monotonic() - kept[0] < self.refresh:
            return kept[1]
        read_at, writes = time.monotonic(), self._writes
        due = self._read()
        with self._lock:
            if writes == self._writes:
                self._kept = (read_at, due)
        return due

    def forget(self) -> None:
        """Something was written: the next ``get`` asks the store."""
        with self._lock:
            self._writes += 1
            self._kept = None
