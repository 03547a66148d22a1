from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyworkflow.backend.base import Backend
from pyworkflow.clock import ManualClock
from pyworkflow.manager import Manager

from .backends import BACKENDS, BackendFactory
from .support import ALL_WORKFLOWS


@pytest.fixture(params=sorted(BACKENDS))
def backend_factory(request: pytest.FixtureRequest, tmp_path) -> Iterator[BackendFactory]:
    """Builds backends of one kind; every backend made is closed after the test."""
    made: list[Backend] = []
    with BACKENDS[request.param](tmp_path) as factory:

        def make(clock) -> Backend:
            backend = factory(clock)
            made.append(backend)
            return backend

        yield make
        for backend in made:
            backend.close()


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
    """Drop the session's PostgreSQL test database, if a test made one."""
    from .postgres_db import DATABASE

    DATABASE.drop()
