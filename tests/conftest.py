from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from pyworkflow.backend.base import Backend
from pyworkflow.clock import ManualClock
from pyworkflow.manager import Manager

from .backends import BACKENDS, BackendFactory, lacking
from .support import ALL_WORKFLOWS


@pytest.fixture(params=sorted(BACKENDS))
def backend_factory(request: pytest.FixtureRequest, tmp_path) -> Iterator[BackendFactory]:
    """Builds backends of one kind; every backend made is closed after the test."""
    needs = {need for mark in request.node.iter_markers("needs") for need in mark.args}
    if "clock" in _own_arguments(request.node):
        needs.add("manual_clock")
    reasons = lacking(request.param, needs)
    if reasons:
        pytest.skip(f"{request.param}: {'; '.join(reasons)}")
    made: list[Backend] = []
    with BACKENDS[request.param](tmp_path) as factory:

        def make(clock) -> Backend:
            backend = factory(clock)
            made.append(backend)
            return backend

        yield make
        for backend in made:
            backend.close()


def _own_arguments(item: pytest.Item) -> tuple[str, ...]:
    """The fixtures a test names itself (not those its fixtures pull in)."""
    function = getattr(item, "function", None)
    return tuple(inspect.signature(function).parameters) if function is not None else ()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): skipped on a backend lacking one (tests/backends.py LACKS)",
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def backend(backend_factory: BackendFactory, clock: ManualClock) -> Backend:
    return backend_factory(clock)


@pytest.fixture
def manager(backend: Backend) -> Manager:
    """A manager knowing the suite's hand-driven workflows and their activities."""
    return Manager(backend, workflows=ALL_WORKFLOWS)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the session's PostgreSQL test database, if a test made one, and stop the
    shared SWF server, if a test started it."""
    from .postgres_db import DATABASE
    from .swf_server import SHARED

    DATABASE.drop()
    SHARED.stop()
