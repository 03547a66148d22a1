"""The backends the behavioural suite runs against, each built fresh per test.

A backend plugs in by adding a factory here: the suite itself never changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyworkflow.backend.base import Backend
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.clock import Clock

from .postgres_db import DATABASE

BackendFactory = Callable[[Clock], Backend]


@contextmanager
def memory_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    yield lambda clock: MemoryBackend(clock=clock)


@contextmanager
def blinker_over_memory(tmp_path: Path) -> Iterator[BackendFactory]:
    """The wrapper must not change behaviour, so it takes the whole suite too."""
    yield lambda clock: BlinkerBackend(MemoryBackend(clock=clock))


@contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    """Each backend gets a fresh file, as each memory backend starts empty: a test
    that makes several (hypothesis makes one per example) must not see old runs."""
    made = itertools.count()
    yield lambda clock: SQLiteBackend(tmp_path / f"pyworkflow-{next(made)}.sqlite3", clock=clock)


@contextmanager
def postgres_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    """Each backend gets a fresh schema in the session's test database, dropped after
    the test (its backends are closed first)."""
    from pyworkflow.backend.postgres import PostgresBackend

    dsn = DATABASE.dsn()
    schemas: list[str] = []

    def make(clock: Clock) -> Backend:
        schemas.append(DATABASE.new_schema_name())
        return PostgresBackend(dsn, clock=clock, schema=schemas[-1])

    try:
        yield make
    finally:
        DATABASE.drop_schemas(schemas)


BACKENDS = {
    "memory": memory_backend,
    "blinker": blinker_over_memory,
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}
