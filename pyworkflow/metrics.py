"""Prometheus metrics for workers and for the processes a backend holds.

Operators watch workers the way they watch any service: a scrape of
``/metrics`` every few seconds. :class:`WorkerMetrics` is a worker hook, so it
sees every task and poll without the worker loop knowing of Prometheus;
:class:`ProcessMetrics` counts open processes when scraped, so it costs nothing
between scrapes. Each keeps its own registry rather than prometheus_client's
global one: two workers (or two tests) in one process then never collide on
metric names, and serving one registry shows exactly its own metrics.

prometheus_client is the ``pyworkflow[metrics]`` extra, imported only when a
metrics object is made, so the library costs nothing without it.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from .hooks import TaskInfo, WorkerHook

if TYPE_CHECKING:
    from .backend.base import Backend

INSTALL_HINT = "pip install 'pyworkflow[metrics]'"
# A task whose report raised (the backend failed while it was being recorded)
# has no outcome of its own; it is counted under this one.
ERROR = "error"


def prometheus() -> Any:
    """The prometheus_client module, or an ImportError that says how to install it."""
    try:
        import prometheus_client
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"metrics need the prometheus_client package: {INSTALL_HINT}",
            name=error.name,
        ) from None
    return prometheus_client


class WorkerMetrics(WorkerHook):
    """Counts tasks by kind, name and outcome, times them, and counts polls.

    Give the same instance to every worker of a process to serve their
    metrics together: ``hooks=[metrics]``, then ``metrics.serve(9100)``.
    """

    def __init__(self, registry: Any = None) -> None:
        client = prometheus()
        self.registry = registry if registry is not None else client.CollectorRegistry()
        self.tasks = client.Counter(
            "pyworkflow_tasks",
            "Tasks handled, by kind (activity or decision), name and outcome.",
            ("kind", "name", "outcome"),
            registry=self.registry,
        )
        self.duration = client.Histogram(
            "pyworkflow_task_duration_seconds",
            "Time from taking a task to its report being recorded.",
            ("kind", "name"),
            registry=self.registry,
        )
        self.in_flight = client.Gauge(
            "pyworkflow_tasks_in_flight",
            "Tasks being handled now.",
            ("kind",),
            registry=self.registry,
        )
        self.polls = client.Counter(
            "pyworkflow_polls",
            "Polls that returned, by kind and whether they brought a task.",
            ("kind", "result"),
            registry=self.registry,
        )
        self.poll_errors = client.Counter(
            "pyworkflow_poll_errors",
            "Polls that raised: the backend could not be reached or refused.",
            ("kind",),
            registry=self.registry,
        )

    def around_task(self, info: TaskInfo, proceed: Callable[[], str]) -> str:
        in_flight = self.in_flight.labels(info.kind)
        in_flight.inc()
        started = time.perf_counter()
        outcome = ERROR
        try:
            outcome = proceed()
            return outcome
        finally:
            in_flight.dec()
            self.duration.labels(info.kind, info.name).observe(time.perf_counter() - started)
            self.tasks.labels(info.kind, info.name, outcome).inc()

    def poll_finished(self, worker: str, kind: str, got_task: bool) -> None:
        self.polls.labels(kind, "task" if got_task else "empty").inc()

    def poll_failed(self, worker: str, kind: str, error: BaseException) -> None:
        self.poll_errors.labels(kind).inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> MetricsServer:
        """Serve these metrics over HTTP in a daemon thread; port 0 picks a free one."""
        return MetricsServer(self.registry, port, host)


class ProcessMetrics:
    """Open processes by workflow, read from the backend at each scrape."""

    def __init__(self, backend: Backend, registry: Any = None) -> None:
        client = prometheus()
        self.backend = backend
        self.registry = registry if registry is not None else client.CollectorRegistry()
        self.registry.register(self)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(
            "pyworkflow_open_processes", "Processes open now, by workflow.", labels=("workflow",)
        )
        counts = collections.Counter(
            str(process.workflow) for process in self.backend.processes(status="open")
        )
        for workflow, count in sorted(counts.items()):
            family.add_metric((workflow,), count)
        yield family


def exposition(registry: Any) -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    client = prometheus()
    return client.generate_latest(registry), client.CONTENT_TYPE_LATEST


class MetricsServer:
    """prometheus_client's own HTTP server for one registry; ``close()`` stops it."""

    def __init__(self, registry: Any, port: int, host: str = "127.0.0.1") -> None:
        self._httpd, self._thread = prometheus().start_http_server(
            port, addr=host, registry=registry
        )
        self.host = host
        self.port: int = self._httpd.server_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
