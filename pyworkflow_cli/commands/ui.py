"""``pyworkflow ui``: a read-only web UI over the configured backend."""

from __future__ import annotations

import click

from ..app import App
from ..options import common_options, pass_app


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="HOST",
    help="Address to listen on; 0.0.0.0 for every interface (the UI has no login).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    metavar="N",
    help="Port to listen on; 0 picks a free one.",
)
@common_options
@pass_app
def ui(app: App, host: str, port: int) -> None:
    """Serve a web UI to browse processes and their histories; it changes nothing.

    Lists processes (filter by status, workflow and tag), and shows each
    one's input, result, parent, children and history. /metrics serves open
    processes by workflow for Prometheus. Needs pip install 'pyworkflow[ui]'.

    \b
    Examples:
      pyworkflow ui --config prod.yaml
      pyworkflow ui --host 0.0.0.0 --port 8081
    """
    from ..extras import require_extra

    require_extra("ui", ("starlette", "uvicorn", "jinja2", "prometheus_client"), "pyworkflow ui")
    from ..ui.app import create_app
    from ..ui.server import serve
    from .worker import setup_logging

    setup_logging(app)
    app.create_storage = False  # browsing must never create an empty database
    app.read_only = True  # nor write to one: it works on read-only media too
    serve(create_app(app.backend), host, port)
