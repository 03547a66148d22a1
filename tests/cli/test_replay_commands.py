"""``pyworkflow replay`` and ``pyworkflow process replay``: their output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyworkflow.examples.multiplication import FooWorkflow
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.testing import run_process

FOO = "pyworkflow.examples.multiplication:FooWorkflow"
CHANGED = "tests.cli.changed_workflows:DoublingFooWorkflow"


@pytest.fixture
def finished(shared_backend) -> str:
    process = run_process(
        Manager(shared_backend, [FooWorkflow]), Process(FooWorkflow, input=[3, 4])
    )
    assert process.result.result == 12
    return str(process.id)


@pytest.fixture
def shown(invoke, memory_config, finished, write) -> str:
    result = invoke("process", "show", finished, "--json", "-c", memory_config)
    assert result.exit_code == 0, result.output
    return write("foo.json", result.stdout)


def test_process_replay_matches_its_own_code(invoke, memory_config, finished):
    result = invoke("process", "replay", finished, "-c", memory_config)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"2 decision points of process {finished} replay as recorded"


def test_process_replay_with_changed_code_exits_1_naming_the_decision(
    invoke, memory_config, finished
):
    result = invoke("process", "replay", finished, "--workflow", CHANGED, "-c", memory_config)
    assert result.exit_code == 1
    assert "decision point 2" in result.stdout
    assert "complete_process result=12" in result.stdout
    assert "complete_process result=24" in result.stdout


def test_replay_of_the_json_of_process_show(invoke, shown):
    result = invoke("replay", shown, "--workflow", FOO, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": json.loads(Path(shown).read_text())["id"],
        "matches": True,
        "decision_points": 2,
    }


def test_replay_mismatch_as_json(invoke, shown):
    result = invoke("replay", shown, "--workflow", CHANGED, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["matches"] is False
    assert data["decision_point"] == 2
    assert data["recorded"] == [{"type": "complete_process", "result": 12}]
    assert data["replayed"] == [{"type": "complete_process", "result": 24}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workflow", FOO], "Missing argument"),
        (["{file}"], "Missing option '--workflow'"),
        (["{file}", "--workflow", "pyworkflow.examples.multiplication"], "is not module:Class"),
        (["{file}", "--workflow", "no.such.module:Foo"], "no module named 'no'"),
        (["{file}", "--workflow", "tests.cli.sample_workflows:GatedWorkflow"], "of workflow 'Foo'"),
        (["{notjson}", "--workflow", FOO], "not JSON"),
        (["{notprocess}", "--workflow", FOO], "expected a process object"),
        (["{missing}", "--workflow", FOO], "No such file"),
    ],
)
def test_usage_errors_exit_2(invoke, shown, write, args, message):
    files = {
        "file": shown,
        "notjson": write("bad.json", "{not json"),
        "notprocess": write("list.json", "[1, 2]"),
        "missing": "missing.json",
    }
    result = invoke("replay", *[arg.format(**files) for arg in args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_process_replay_of_an_unknown_process_exits_3(invoke, memory_config, shared_backend):
    result = invoke("process", "replay", "no-such-process", "-c", memory_config)
    assert result.exit_code == 3
    assert "no-such-process" in result.stderr
