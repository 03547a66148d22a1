"""Run the UI under Uvicorn until Ctrl-C or SIGTERM, then exit 0.

The socket is bound here rather than by Uvicorn, so that a taken port is a
one-line error before anything starts, and port 0 (a free port, for tests and
side-by-side runs) still says where it is listening.
"""

from __future__ import annotations

import os
import signal
import socket
from typing import Any

import click

from ..errors import CliError

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as error:
        # create_server adds the address to strerror; the errno alone says it once.
        errno = error.errno if isinstance(error.errno, int) and error.errno > 0 else None
        reason = os.strerror(errno) if errno else error.strerror or str(error)
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None


def url(listening: socket.socket) -> str:
    host, port = listening.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    listening = bind(host, port)
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False)
    )
    if host not in LOOPBACK:
        click.echo(
            f"Warning: the UI has no login; anyone who can reach {host}:{port} "
            "can read every process",
            err=True,
        )
    click.echo(f"pyworkflow UI at {url(listening)} (Ctrl-C stops it)", err=True)
    # Uvicorn stops gracefully on these and then raises them again for the handlers
    # it found; ours let the command end normally, with exit code 0.
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: None)
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
