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
import weakref
from collections.abc import Callable
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
