"""Signals, for the two kinds of long-running command.

Workers stop gracefully (:func:`graceful_stop`): SIGTERM, SIGINT or SIGHUP
stops polling and lets the task in hand finish (SIGHUP, the usual "reload", so
that a unit restarted with ``Restart=always`` comes back with the config read
afresh, rather than dying mid-task by the default action); a second SIGINT exits at once (exit
code 130), for an impatient Ctrl-C. A second SIGTERM changes nothing: under
systemd, the unit's ``TimeoutStopSec`` decides when patience ends, with SIGKILL.

Commands that only wait (``process wait``, ``process start --wait``) hold no
task, so :func:`interrupt_exits` ends them at once, with 128 + the signal's
number as shells report it: 130 for Ctrl-C, 143 for SIGTERM. Never 1, which
says the process failed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import EXIT_INTERRUPTED

LOG = logging.getLogger("pyworkflow.cli")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
WORKER_STOP_SIGNALS = (*STOP_SIGNALS, signal.SIGHUP)


class StopRequest(threading.Event):
    """Set once a stop was requested; ``signum`` says by which signal."""

    signum: int | None = None

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a command it ended."""
        return 128 + (self.signum or signal.SIGINT)


class Interrupted(BaseException):
    """Raised in the main thread by a stop signal while a command waits.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way (a backend's wait, say) swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def graceful_stop(stop: Callable[[], None]) -> Iterator[StopRequest]:
    """Call ``stop`` on the first SIGTERM/SIGINT/SIGHUP while the block runs.

    Yields an event set once a stop was requested. Handlers can only be
    installed from the main thread; elsewhere (tests) this does nothing.
    """
    requested = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if requested.is_set():
            if signum == signal.SIGINT:
                LOG.warning("second %s: exiting now, abandoning the task in hand", name)
                os._exit(EXIT_INTERRUPTED)
            return
        requested.signum = signum
        requested.set()
        LOG.info("%s received: finishing the task in hand, then stopping", name)
        stop()

    with _handlers(handle, WORKER_STOP_SIGNALS):
        yield requested


@contextmanager
def interrupt_exits() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGTERM or SIGINT while the block runs.

    Outside the main thread (tests) this does nothing; KeyboardInterrupt
    still ends the command with 130 there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    with _handlers(handle, STOP_SIGNALS):
        yield


@contextmanager
def _handlers(
    handle: Callable[[int, FrameType | None], None], signals: tuple[signal.Signals, ...]
) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
