"""What the package offers by name, and how every backend is held."""

from __future__ import annotations

import pytest

import pyworkflow
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.exceptions import BackendError
from pyworkflow.process import Process


def test_the_seams_and_errors_are_exported_from_the_package():
    for name in (
        "Backend",
        "PyworkflowError",
        "BackendError",
        "UnknownResourceException",
        "PublishedEvent",
        "Observer",
        "WorkerHook",
        "TaskInfo",
        "Outcome",
    ):
        assert name in pyworkflow.__all__
        assert getattr(pyworkflow, name) is not None
    assert pyworkflow.testing.ManualClock is not None
    assert issubclass(pyworkflow.BackendError, pyworkflow.PyworkflowError)


def test_a_backend_is_a_context_manager_that_closes_it(tmp_path):
    with SQLiteBackend(tmp_path / "pyworkflow.sqlite3") as backend:
        backend.register_workflow("Flow")
        backend.start_process(Process(workflow="Flow", id="p"))
    with pytest.raises(BackendError, match="closed"):
        backend.wait_for_work(0.01)
    with MemoryBackend() as memory:
        assert isinstance(memory, pyworkflow.Backend)
