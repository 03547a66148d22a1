"""Tell systemd how a worker is doing (``Type=notify``), with no dependency.

The protocol is one datagram per message on the AF_UNIX socket named by
$NOTIFY_SOCKET (a leading ``@`` names an abstract socket): READY=1 once the
worker polls, WATCHDOG=1 at half the unit's ``WatchdogSec`` while the loop
makes progress, STOPPING=1 when it stops. Without $NOTIFY_SOCKET (not under
systemd) nothing is sent. A hung worker stops feeding the watchdog, and
systemd restarts it.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from pyworkflow.worker import MAX_IDLE_WAIT

from .health import PollHealth


def notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send ``message`` to systemd; False when not under systemd or it failed."""
    environ = os.environ if environ is None else environ
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """The unit's WatchdogSec, when it is meant for this process."""
    environ = os.environ if environ is None else environ
    usec, pid = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000


@contextmanager
def service(health: PollHealth, stopping: Callable[[], bool]) -> Iterator[Callable[[], None]]:
    """Yields ``ready``, to call once the worker takes stop signals (READY=1);
    meanwhile WATCHDOG=1 while ``health`` shows progress, STOPPING=1 on stop.

    ``stopping`` says whether a stop was requested, so systemd hears of it
    while the task in hand is still finishing.
    """
    if not os.environ.get("NOTIFY_SOCKET"):
        yield lambda: None
        return

    def ready() -> None:
        notify("READY=1")
        thread.start()  # the watchdog is fed from READY=1 on, as systemd expects

    period = watchdog_seconds()
    done = threading.Event()
    said_stopping = threading.Event()

    def feed() -> None:
        interval = period / 2 if period else 0.2
        while not done.wait(interval):
            if stopping() and not said_stopping.is_set():
                said_stopping.set()
                notify("STOPPING=1")
            # An idle worker polls at least every MAX_IDLE_WAIT: quiet for longer
            # than that, and than the watchdog period, means it is stuck.
            if period and health.progressed_within(max(period, 2 * MAX_IDLE_WAIT)):
                notify("WATCHDOG=1")

    thread = threading.Thread(target=feed, name="systemd-notify", daemon=True)
    try:
        yield ready
    finally:
        done.set()
        if thread.is_alive():
            thread.join()
        if not said_stopping.is_set():
            notify("STOPPING=1")
