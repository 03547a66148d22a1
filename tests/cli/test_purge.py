"""``process purge`` and the count of kept processes under ``process list``."""

from __future__ import annotations

import json

import pytest

from pyworkflow.backend.base import Backend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process

from .test_bad_input import one_line_error


@pytest.fixture
def processes(shared_backend) -> dict[str, str]:
    """Two closed processes and an open one, on the backend every command uses."""
    manager = Manager(shared_backend, [FooWorkflow])
    made = {name: manager.start_process(Process(workflow=FooWorkflow, id=name)) for name in "abc"}
    manager.cancel_process("a")
    manager.cancel_process("b")
    return made


def listed(invoke, config) -> list[str]:
    result = invoke("process", "list", "--status", "all", "--json", "-c", config)
    assert result.exit_code == 0, result.output
    return sorted(item["id"] for item in json.loads(result.stdout))


def test_purge_removes_the_closed_processes_and_keeps_the_open_one(
    invoke, memory_config, processes
) -> None:
    result = invoke("process", "purge", "--older-than", "0s", "-c", memory_config)
    assert (result.exit_code, result.stdout) == (0, "purged 2 closed processes\n")
    assert listed(invoke, memory_config) == ["c"]
    shown = invoke("process", "show", "a", "-c", memory_config)
    assert shown.exit_code == 3


def test_a_dry_run_counts_and_changes_nothing(invoke, memory_config, processes) -> None:
    result = invoke(
        "process", "purge", "--older-than", "0s", "--dry-run", "--json", "-c", memory_config
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"would_purge": 2, "vacuumed": False}
    assert listed(invoke, memory_config) == ["a", "b", "c"]


def test_younger_processes_stay(invoke, memory_config, processes) -> None:
    result = invoke("process", "purge", "--older-than", "1h", "--json", "-c", memory_config)
    assert json.loads(result.stdout) == {"purged": 0, "vacuumed": False}
    assert listed(invoke, memory_config) == ["a", "b", "c"]


def test_purge_of_another_workflow_leaves_these(invoke, memory_config, processes) -> None:
    result = invoke(
        "process", "purge", "--older-than", "0s", "--workflow", "Gated", "-c", memory_config
    )
    assert (result.exit_code, result.stdout) == (0, "purged 0 closed processes\n")
    assert listed(invoke, memory_config) == ["a", "b", "c"]


@pytest.mark.parametrize("age", ["30", "3x", "-1d", "thirty days", ""])
def test_a_bad_duration_is_exit_2_with_a_one_line_error(
    invoke, memory_config, processes, age
) -> None:
    result = invoke("process", "purge", "--older-than", age, "-c", memory_config)
    assert result.exit_code == 2
    assert "--older-than" in one_line_error(result)
    assert listed(invoke, memory_config) == ["a", "b", "c"]


class OwnRetentionBackend(MemoryBackend):
    """Stands for a backend that keeps its own retention rules, as Amazon SWF does:
    it takes the Backend contract's default."""

    purge = Backend.purge


def test_a_backend_with_its_own_retention_refuses_with_exit_2(
    invoke, memory_config, monkeypatch
) -> None:
    monkeypatch.setattr(
        "pyworkflow_cli.backends.create_backend", lambda config, **options: OwnRetentionBackend()
    )
    result = invoke("process", "purge", "--older-than", "30d", "-c", memory_config)
    assert result.exit_code == 2
    assert "does not purge closed processes" in one_line_error(result)


def test_list_ends_with_the_count_kept(invoke, memory_config, processes) -> None:
    text = invoke("process", "list", "-c", memory_config).stdout.splitlines()
    assert text[-1] == "3 processes kept (1 open); closed ones are kept forever"
    invoke("process", "purge", "--older-than", "0s", "-c", memory_config)
    text = invoke("process", "list", "-c", memory_config).stdout.splitlines()
    assert text[-1] == "1 process kept (1 open); closed ones are kept forever"


def test_retention_in_the_config_reaches_the_backend(invoke, write) -> None:
    from pyworkflow_cli.backends import create_backend
    from pyworkflow_cli.config import load_config

    config = write("kept.yaml", "backend: {type: memory, retention: 90m}\n")
    backend = create_backend(load_config(config))
    assert backend.retention is not None and backend.retention.total_seconds() == 5400
    text = invoke("process", "list", "-c", config).stdout.splitlines()
    assert text[-1] == "0 processes kept (0 open); closed ones are kept for 90m"


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("{type: sqlite, retention: 30 days}", "backend.retention: '30 days' is not a duration"),
        ("{type: amazonswf, domain: d, retention: 30d}", "the domain's"),
    ],
)
def test_a_bad_retention_in_the_config_is_exit_2(invoke, write, backend, message) -> None:
    config = write("bad.yaml", f"backend: {backend}\n")
    result = invoke("process", "list", "-c", config)
    assert result.exit_code == 2
    assert message in one_line_error(result)
