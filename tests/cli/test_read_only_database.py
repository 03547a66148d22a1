"""The read commands on a SQLite database the user cannot write: they answer, and
leave every file as it was; a command that writes says why it cannot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import DecisionWorker
from pyworkflow.workflow import Workflow


class ArchiveWorkflow(Workflow):
    """Completes at its first decision with its input."""

    def decide(self, process):
        return CompleteProcess(process.input)


@pytest.fixture
def archive(tmp_path: Path, write, monkeypatch) -> Iterator[Path]:
    """A database with a completed and an open process, in a directory that, like
    the file, is then read-only; the config lives elsewhere."""
    directory = tmp_path / "archive"
    directory.mkdir()
    path = directory / "pyworkflow.db"
    with SQLiteBackend(path) as backend:
        manager = Manager(backend, [ArchiveWorkflow])
        manager.start_process(Process(workflow=ArchiveWorkflow, id="done", input="kept"))
        DecisionWorker(manager).step()
        manager.start_process(Process(workflow=ArchiveWorkflow, id="open", input="waiting"))
    config = write("pyworkflow.yaml", f"backend: {{type: sqlite, path: {path}}}\n")
    monkeypatch.setenv("PYWORKFLOW_CONFIG", config)
    path.chmod(0o444)
    directory.chmod(0o555)
    try:
        yield directory
    finally:
        directory.chmod(0o755)
        path.chmod(0o644)


def files(directory: Path) -> dict[str, tuple[int, str]]:
    return {
        entry.name: (entry.stat().st_mtime_ns, hashlib.sha256(entry.read_bytes()).hexdigest())
        for entry in directory.iterdir()
    }


def test_read_commands_answer_and_change_nothing(invoke, archive: Path) -> None:
    before = files(archive)
    listed = json.loads(invoke("process", "list", "--status", "all", "--json").stdout)
    assert [item["id"] for item in listed] == ["open", "done"]
    shown = json.loads(invoke("process", "show", "done", "--json").stdout)
    assert shown["status"] == "completed" and shown["result"]["result"] == "kept"
    history = json.loads(invoke("process", "history", "done", "--json").stdout)
    assert history[0]["type"] == "process_started"
    waited = invoke("process", "wait", "done")
    assert waited.exit_code == 0 and "kept" in waited.output
    assert invoke("process", "wait", "open", "--timeout", "0.1").exit_code == 5
    text = invoke("process", "list")
    assert text.exit_code == 0 and "2 processes kept (1 open)" in text.output
    assert files(archive) == before


def test_a_command_that_writes_says_the_database_is_read_only(invoke, archive: Path) -> None:
    before = files(archive)
    result = invoke("process", "signal", "open", "go")
    assert result.exit_code == 2
    assert "read-only" in result.output and len(result.output.strip().splitlines()) == 1
    assert files(archive) == before
