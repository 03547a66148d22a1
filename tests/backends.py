"""The backends the behavioural suite runs against, each built fresh per test.

A backend plugs in by adding a factory here: the suite itself never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyworkflow.backend.base import Backend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.clock import Clock

BackendFactory = Callable[[Clock], Backend]


@contextmanager
def memory_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    yield lambda clock: MemoryBackend(clock=clock)


@contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    """Every backend made in one test shares one fresh file, as workers on one host do."""
    path = tmp_path / "pyworkflow.sqlite3"
    yield lambda clock: SQLiteBackend(path, clock=clock)


BACKENDS = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
}
