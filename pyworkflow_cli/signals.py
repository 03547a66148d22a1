"""Graceful stop: SIGTERM or SIGINT stops polling and lets the task in hand
finish; a second SIGINT exits at once (exit code 130), for an impatient Ctrl-C.

A second SIGTERM changes nothing: under systemd, the unit's ``TimeoutStopSec``
decides when patience ends, with SIGKILL.
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


@contextmanager
def graceful_stop(stop: Callable[[], None]) -> Iterator[threading.Event]:
    """Call ``stop`` on the first SIGTERM/SIGINT while the block runs.

    Yields an event set once a stop was requested. Handlers can only be
    installed from the main thread; elsewhere (tests) this does nothing.
    """
    requested = threading.Event()
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
        requested.set()
        LOG.info("%s received: finishing the task in hand, then stopping", name)
        stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield requested
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
