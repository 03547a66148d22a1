"""Commands that read or steer existing processes never create a database: run
from the wrong directory, they say the database is missing instead of leaving
an empty one behind and reporting the process as unknown."""

from __future__ import annotations

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend

READERS = [
    ("process", "show", "abc"),
    ("process", "list"),
    ("process", "wait", "abc"),
    ("process", "signal", "abc", "approve"),
    ("process", "cancel", "abc"),
]


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[1])
def test_no_database_is_created_without_config(invoke, tmp_path, command):
    result = invoke(*command)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: database pyworkflow.db does not exist; start a worker or a process first"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READERS, ids=lambda command: command[1])
def test_configured_path_is_named(invoke, write, tmp_path, command):
    config = write("cfg.yaml", f"backend: {{type: sqlite, path: {tmp_path}/w.db}}\n")
    result = invoke(*command, "--config", config)
    assert result.exit_code == 2
    assert f"database {tmp_path}/w.db does not exist" in result.stderr
    assert not (tmp_path / "w.db").exists()


def test_an_existing_database_is_read(invoke, tmp_path):
    SQLiteBackend(tmp_path / "pyworkflow.db").close()
    assert invoke("process", "show", "abc").exit_code == 3
    assert invoke("process", "list").exit_code == 0


def test_process_start_still_creates_it(invoke, tmp_path):
    result = invoke("process", "start", "pyworkflow.examples.multiplication:Foo", "--input", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pyworkflow.db").exists()
