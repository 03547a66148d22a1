"""The web UI's routes: a Starlette app over one backend, that only reads.

Every route answers GET (and HEAD) alone, so nothing reachable from a browser
can change a process. Pages are rendered on the server with autoescaping on,
since inputs and results are user data; the Content-Security-Policy allows
no script at all, so even a value that slipped through could not run.
Handlers are plain functions: Starlette runs them in its thread pool, where
the backend's blocking reads belong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pyworkflow.metrics import ProcessMetrics, exposition

from ..errors import BackendUnreachableError, NotFoundError, translate
from .views import PAGE_SIZE, BadQuery, Filters, list_page, process_page

if TYPE_CHECKING:
    from pyworkflow.backend.base import Backend

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(backend: Backend, page_size: int = PAGE_SIZE) -> Starlette:
    """The UI over ``backend``; serve it with any ASGI server."""
    templates = Environment(
        loader=PackageLoader("pyworkflow_cli.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    process_metrics = ProcessMetrics(backend)

    def page(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        body = templates.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status_code, headers=HEADERS)

    def processes(request: Request) -> Response:
        try:
            filters = Filters.from_query(request.query_params)
        except BadQuery as error:
            return page("error.html", 400, title="Bad request", message=str(error))
        return page("processes.html", listing=list_page(backend, filters, page_size))

    def process(request: Request) -> Response:
        process_id = request.path_params["process_id"]
        try:
            found = backend.process_by_id(process_id)
        except Exception as error:
            return failure(error)
        return page("process.html", process=process_page(found))

    def metrics(request: Request) -> Response:
        body, content_type = exposition(process_metrics.registry)
        return Response(body, media_type=content_type)

    def failure(error: Exception) -> Response:
        translated = translate(error)
        if isinstance(translated, NotFoundError):
            return page("error.html", 404, title="Not found", message=translated.message)
        if isinstance(translated, BackendUnreachableError):
            return page("error.html", 503, title="Backend unreachable", message=translated.message)
        raise error

    def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        response = page("error.html", error.status_code, title=error.detail, message="")
        response.headers.update(error.headers or {})
        return response

    return Starlette(
        routes=[
            Route("/", processes, methods=["GET"]),
            Route("/processes/{process_id:path}", process, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Mount("/static", StaticFiles(packages=[("pyworkflow_cli.ui", "static")])),
        ],
        exception_handlers={HTTPException: http_error},
    )
