"""The background purger: workers forget closed processes older than the retention.

It runs as a worker hook, between polls, so a worker needs no thread of its own
for it: every ``interval`` seconds one purger (the one that gets the backend's
purge lock, across every worker sharing the storage) forgets up to ``limit``
processes in batches of short transactions, and lets the worker poll again. A
backlog, such as a database that had no retention before, is worked off a round
at a time, the next round following at once while whole rounds are found.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from .backend.base import Backend
from .hooks import WorkerHook

LOG = logging.getLogger("pyworkflow.purging")

DEFAULT_INTERVAL = 60.0
ROUND_LIMIT = 1000


class Purger(WorkerHook):
    """Purges ``backend``'s closed processes older than ``retention`` (the backend's
    own, when not given) every ``interval`` seconds of a worker's polling."""

    def __init__(
        self,
        backend: Backend,
        retention: timedelta | None = None,
        interval: float = DEFAULT_INTERVAL,
        limit: int = ROUND_LIMIT,
        logger: logging.Logger | None = None,
    ) -> None:
        retention = backend.retention if retention is None else retention
        if retention is None:
            raise ValueError("a purger needs a retention: the backend keeps processes forever")
        self.backend = backend
        self.retention = retention
        self.interval = interval
        self.limit = limit
        self.logger = logger or LOG
        self.purged = 0
        self._next_round = time.monotonic()

    def poll_finished(self, worker: str, kind: str, got_task: bool) -> None:
        now = time.monotonic()
        if now < self._next_round:
            return
        try:
            purged = self.purge_round()
        except Exception as error:  # the storage failed: the worker polls on, we retry later
            self.logger.warning("purge failed: %s", error, extra={"error": str(error)})
            purged = 0
        # A full round means more is waiting: go on at the next poll.
        self._next_round = now if purged >= self.limit else now + self.interval

    def purge_round(self) -> int:
        """One round, if no other purger is at work; how many processes went."""
        with self.backend.purge_lock() as holding:
            if not holding:
                return 0
            purged = self.backend.purge(self.retention, limit=self.limit)
        if purged:
            self.purged += purged
            self.logger.info("purged %d closed processes", purged, extra={"purged": purged})
        return purged
