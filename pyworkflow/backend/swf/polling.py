"""Long polls held in a background thread, so that a worker's ``stop()`` is
never stuck behind SWF's 60-second poll.

The Backend contract's polls return at once; here they take what a background
long poll has already brought in, and ``wait_for_work`` waits for one to arrive.
A poll is only started when a worker asked for a task and none is held, so at
most one task per poller is ever held in hand, and a task brought in is never
replaced by the next one: a worker that asks again while a poll is out only
keeps a poll in flight after it. Bound: when a worker stops
while a long poll is out, that poll may still bring in a task, which nobody
runs; SWF gives it to another worker when its start-to-close timeout expires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

ERROR_BACKOFF = 1.0


class Arrivals:
    """How many tasks and errors pollers have brought in; read and changed under
    the pollers' shared condition."""

    def __init__(self) -> None:
        self.count = 0


class LongPoller(Generic[T]):
    def __init__(
        self,
        poll: Callable[[], T | None],
        arrived: threading.Condition,
        name: str,
        arrivals: Arrivals | None = None,
    ):
        self._poll = poll
        self._arrived = arrived
        self._arrivals = arrivals or Arrivals()
        self._name = name
        self._lock = threading.Lock()
        self._task: T | None = None
        self._error: Exception | None = None
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        return self._task is not None or self._error is not None

    def take(self) -> T | None:
        """The task a long poll brought in, if any; asks for the next poll either way."""
        with self._lock:
            task, error = self._task, self._error
            self._task = self._error = None
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wanted.set()
        if error is not None:
            raise error
        return task

    def close(self) -> None:
        self._closed.set()
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._closed.is_set():
                return
            with self._lock:
                self._wanted.clear()
                if self._task is not None:
                    continue  # held until taken; take() asks for the next poll
            try:
                task = self._poll()
            except Exception as error:  # handed to the worker, which reports it
                with self._lock:
                    self._error = error
                self._notify()
                self._closed.wait(ERROR_BACKOFF)
                continue
            if task is None:
                continue  # polls again only if a worker asked meanwhile
            with self._lock:
                self._task = task
            self._notify()

    def _notify(self) -> None:
        with self._arrived:
            self._arrivals.count += 1
            self._arrived.notify_all()
