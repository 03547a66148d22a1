"""Sleep until a file is written, where the system can tell (Linux's inotify).

Every SQLite commit in WAL mode writes to the ``-wal`` file, so an idle worker
that sleeps on this instead of a fixed pause wakes as soon as another process
commits, rather than up to a polling interval later. Where inotify is missing
(another system, no watch left, no file yet) ``wait`` is a plain sleep and the
caller's polling is all there is: a watch only ever shortens a wait.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import sys
import time

IN_MODIFY = 0x00000002
_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL | None:
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _LIBC


class FileWatch:
    """Writes to one file, seen through an inotify descriptor of this thread's own."""

    def __init__(self, path: str) -> None:
        self._fd: int | None = None
        libc = _libc()
        if libc is None:
            return
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            return
        if libc.inotify_add_watch(fd, os.fsencode(path), IN_MODIFY) < 0:
            os.close(fd)
            return
        self._fd = fd

    @property
    def watching(self) -> bool:
        return self._fd is not None

    def wait(self, timeout: float) -> None:
        """Return once the file was written since the last call, or after ``timeout``."""
        if self._fd is None:
            time.sleep(timeout)
            return
        readable, _, _ = select.select([self._fd], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                while os.read(self._fd, 4096):
                    pass

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
