"""One database connection per thread, for the SQL stores.

Worker threads run transactions at once, and a DB-API connection is not safe
to share between them. A connection is closed when its thread ends (its
thread-local state goes with it) or when the store closes, so threads that
come and go do not leave connections behind; a forked child opens its own
rather than use its parent's.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> Any: ...


C = TypeVar("C", bound=Closable)


class _Owned(Generic[C]):
    __slots__ = ("connection", "pid", "__weakref__")

    def __init__(self, connection: C) -> None:
        self.connection = connection
        self.pid = os.getpid()

    def close(self) -> None:
        # A forked child never closes what its parent may still be using.
        if self.pid == os.getpid():
            with contextlib.suppress(Exception):
                self.connection.close()

    def __del__(self) -> None:
        # At interpreter exit modules may be half torn down: never complain then.
        with contextlib.suppress(Exception):
            self.close()


class ThreadConnections(Generic[C]):
    """``get()`` gives the calling thread its connection, opening one with
    ``connect`` when it has none, or when ``usable`` says the old one is gone."""

    def __init__(
        self,
        connect: Callable[[], C],
        on_closed: Callable[[], Exception],
        usable: Callable[[C], bool] = lambda connection: True,
    ) -> None:
        self._connect = connect
        self._on_closed = on_closed
        self._usable = usable
        self._local = threading.local()
        self._owned: weakref.WeakSet[_Owned[C]] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.closed = False

    def get(self) -> C:
        owned: _Owned[C] | None = getattr(self._local, "owned", None)
        if owned is None or owned.pid != os.getpid() or not self._usable(owned.connection):
            if self.closed:
                raise self._on_closed()
            owned = _Owned(self._connect())
            self._local.owned = owned
            with self._lock:
                self._owned.add(owned)
        return owned.connection

    def close(self) -> None:
        self.closed = True
        with self._lock:
            owned = list(self._owned)
        for each in owned:
            each.close()


class Watchdog(Generic[C]):
    """Breaks a connection whose call has gone unanswered for ``limit`` seconds.

    A server that stops answering (stopped, frozen, behind a stalled network
    path) leaves a client blocked reading a socket: TCP keepalives do not help
    while the peer's kernel still acknowledges, and a server-side statement
    timeout is never enforced by a server that does not run. So a daemon thread
    watches the calls in flight and hands each one that overran to ``expire``,
    which breaks the connection; the blocked call then fails, and the next one
    opens a new connection.
    """

    def __init__(
        self, limit: float, expire: Callable[[C, float], None], check_every: float = 0.25
    ) -> None:
        self.limit = limit
        self._expire = expire
        self._check_every = min(check_every, max(0.01, limit / 4))
        self._watched: dict[int, tuple[C, float]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._pid = 0

    @contextlib.contextmanager
    def guard(self, connection: C) -> Iterator[None]:
        key = id(connection)
        with self._lock:
            self._watched[key] = (connection, time.monotonic() + self.limit)
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._start()
        try:
            yield
        finally:
            with self._lock:
                self._watched.pop(key, None)

    def _start(self) -> None:
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="pyworkflow-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._check_every):
            now = time.monotonic()
            with self._lock:
                overdue = [
                    (key, connection)
                    for key, (connection, deadline) in self._watched.items()
                    if deadline <= now
                ]
                for key, _ in overdue:
                    del self._watched[key]
            for _, connection in overdue:
                with contextlib.suppress(Exception):
                    self._expire(connection, self.limit)

    def stop(self) -> None:
        self._stopped.set()
