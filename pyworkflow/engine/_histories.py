"""Decoded histories of the runs this process decided recently.

A history only grows: events are appended with increasing numbers and never
changed. So a copy of a run's first N events stays true for ever, and a decision
task needs only the events after them read and decoded: a decision costs the same
at 50 events as at 5,000. Bounded by the number of runs kept, least recently
used first out; a run that is not kept is read whole, as before.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from ..events import Event

DEFAULT_RUNS = 512


class HistoryCache:
    def __init__(self, max_runs: int = DEFAULT_RUNS) -> None:
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, list[Event]] = OrderedDict()

    def history(
        self, run_id: str, read_after: Callable[[int], list[Event]], uncommitted: int = 0
    ) -> list[Event]:
        """The whole history of ``run_id``: what is kept, and ``read_after(n)`` for the
        events after the first ``n``. The last ``uncommitted`` events were appended by
        the transaction still under way, which may yet roll back: they are not kept.
        The list returned is the caller's own."""
        with self._lock:
            kept = self._runs.get(run_id, [])
        events = kept + read_after(len(kept))
        if self.max_runs > 0:
            durable = events[: len(events) - uncommitted]
            with self._lock:
                self._runs[run_id] = durable
                self._runs.move_to_end(run_id)
                while len(self._runs) > self.max_runs:
                    self._runs.popitem(last=False)
        return list(events)

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)
