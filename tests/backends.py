"""The backends the behavioural suite runs against, each built fresh per test.

A backend plugs in by adding a factory here: the suite itself never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyworkflow.backend.base import Backend
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.clock import Clock

BackendFactory = Callable[[Clock], Backend]


@contextmanager
def memory_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    yield lambda clock: MemoryBackend(clock=clock)


@contextmanager
def blinker_over_memory(tmp_path: Path) -> Iterator[BackendFactory]:
    """The wrapper must not change behaviour, so it takes the whole suite too."""
    yield lambda clock: BlinkerBackend(MemoryBackend(clock=clock))


BACKENDS = {
    "memory": memory_backend,
    "blinker": blinker_over_memory,
}
