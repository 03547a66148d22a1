"""Observers: who hears about runtime events, and in what shape.

A backend publishes the events it appended once their transaction has
committed (or, for a backend with rules of its own such as Amazon SWF, once it
has learned of them). Blinker signals, metrics and the web UI listen here
rather than re-reading histories to guess what changed, so each event is
announced exactly once and watching costs no extra reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .events import Event

LOG = logging.getLogger("pyworkflow.observe")


@dataclass(frozen=True)
class PublishedEvent:
    """One event of one run, as it was recorded."""

    process_id: str
    run_id: str
    workflow: str
    event: Event


Observer = Callable[[Sequence[PublishedEvent]], None]


class Observers:
    """The observers of one backend. An observer that raises is logged and skipped:
    what it failed to hear must never undo or block what was already committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observers: tuple[Observer, ...] = ()

    def add(self, observer: Observer) -> None:
        with self._lock:
            self._observers = (*self._observers, observer)

    def remove(self, observer: Observer) -> None:
        with self._lock:
            self._observers = tuple(known for known in self._observers if known != observer)

    def __bool__(self) -> bool:
        return bool(self._observers)

    def publish(self, events: Sequence[PublishedEvent]) -> None:
        if not events:
            return
        for observer in self._observers:
            try:
                observer(events)
            except Exception:
                LOG.exception("an observer failed on %d published events", len(events))
