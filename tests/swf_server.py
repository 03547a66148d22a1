"""moto's SWF server on a free local port, reached over HTTP like the real service."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from typing import Any

from pyworkflow.backend.amazonswf import AmazonSWFBackend
from pyworkflow.backend.base import TaskList
from pyworkflow.defaults import Defaults
from pyworkflow.task import ActivityTask, DecisionTask

_domains = count()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server() -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


@contextmanager
def moto_server() -> Iterator[str]:
    """The server's endpoint URL; the server stops when the block ends."""
    server, url = _start_server()
    try:
        yield url
    finally:
        server.stop()


class SharedServer:
    """One server for the whole behavioural suite, started when a test first needs
    it (each backend gets its own domain, so tests never meet) and stopped when the
    session ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self._url = ""

    def url(self) -> str:
        with self._lock:
            if self._server is None:
                self._server, self._url = _start_server()
            return self._url

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None


SHARED = SharedServer()


def fake_credentials() -> None:
    """moto accepts any key; set them so boto3's chain finds some and never looks further."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def swf_backend(
    endpoint_url: str, backend_class: type[AmazonSWFBackend] = AmazonSWFBackend, **settings: Any
) -> AmazonSWFBackend:
    """A backend on a fresh domain, so that tests sharing one server never meet."""
    fake_credentials()
    return backend_class(
        domain=f"pyworkflow-test-{next(_domains)}",
        endpoint_url=endpoint_url,
        register_domain=True,
        **settings,
    )


class AnsweringSWFBackend(AmazonSWFBackend):
    """Polls that wait for SWF's answer, for the hand-driven suite.

    The backend's own polls hand over what a background long poll brought in, so
    an empty answer means "nothing yet". The suite's tests poll by hand and read an
    empty answer as "no task": each poll here is one PollFor*Task call, which moto
    answers at once with a task it holds, or empty after about a second. Worker
    threads on the background polls run in tests/test_amazonswf.py."""

    def poll_activity_task(
        self,
        category: str = Defaults.ACTIVITY_CATEGORY,
        identity: str | None = None,
        activities: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        return self._poll_activity(category, identity)

    def poll_decision_task(
        self,
        category: str = Defaults.DECISION_CATEGORY,
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        return self._poll_decision(category, identity)

    def wait_for_work(self, timeout: float, task_list: TaskList | None = None) -> bool:
        return True  # each poll waits for its answer


def answering_swf_backend(endpoint_url: str) -> AmazonSWFBackend:
    return swf_backend(endpoint_url, backend_class=AnsweringSWFBackend)
