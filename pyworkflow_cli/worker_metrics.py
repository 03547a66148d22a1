"""``--metrics-port``: a worker command serving Prometheus metrics while it runs."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from .errors import CliError
from .extras import require_extra

if TYPE_CHECKING:
    from pyworkflow.hooks import WorkerHook

    from .config import WorkerDefaults

DEFAULT_HOST = "127.0.0.1"


def metrics_hooks(
    port: int | None, host: str | None, *sections: WorkerDefaults
) -> list[WorkerHook]:
    """The metrics hook for the command's workers, already serving; none when no
    port is configured. The options win, else the first config section with a
    port. The server stops when the command ends."""
    configured = next((section for section in sections if section.metrics_port is not None), None)
    if configured is not None:
        port = configured.metrics_port if port is None else port
        host = configured.metrics_host if host is None else host
    if port is None:
        return []
    require_extra("metrics", ("prometheus_client",), "--metrics-port")
    from pyworkflow.metrics import WorkerMetrics

    host = host or DEFAULT_HOST
    metrics = WorkerMetrics()
    try:
        server = metrics.serve(port, host)
    except OSError as error:
        raise CliError(
            f"cannot serve metrics on {host}:{port}: {error.strerror or error}"
        ) from None
    click.get_current_context().call_on_close(server.close)
    logging.getLogger("pyworkflow.cli").info(
        "serving metrics at %s", server.url, extra={"metrics_url": server.url}
    )
    return [metrics]
