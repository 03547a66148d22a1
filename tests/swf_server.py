"""moto's SWF server on a free local port, reached over HTTP like the real service."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

_domains = count()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """The server's endpoint URL; the server stops when the block ends."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def fake_credentials() -> None:
    """moto accepts any key; set them so boto3's chain finds some and never looks further."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def swf_backend(endpoint_url: str, **settings: Any):
    """A backend on a fresh domain, so that tests sharing one server never meet."""
    from pyworkflow.backend.amazonswf import AmazonSWFBackend

    fake_credentials()
    return AmazonSWFBackend(
        domain=f"pyworkflow-test-{next(_domains)}",
        endpoint_url=endpoint_url,
        register_domain=True,
        **settings,
    )
