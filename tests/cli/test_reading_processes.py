"""Reading and steering processes: times, runs, history, terminate, signals, and no
workflow code needed to do any of it."""

from __future__ import annotations

import json

import pytest

from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.decision import CompleteProcess
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import DecisionWorker
from pyworkflow.workflow import Workflow


class OrderWorkflow(Workflow):
    """Completes at its first decision with its input."""

    def decide(self, process):
        return CompleteProcess(process.input)


@pytest.fixture
def database(tmp_path):
    """A SQLite database holding order-1 twice: a completed run, then an open one."""
    path = str(tmp_path / "shop.db")
    with SQLiteBackend(path) as backend:
        manager = Manager(backend, [OrderWorkflow])
        manager.start_process(Process(workflow=OrderWorkflow, id="order-1", input="first"))
        DecisionWorker(manager).step()
        manager.start_process(Process(workflow=OrderWorkflow, id="order-1", input="second"))
    return path


@pytest.fixture
def unimportable_config(write, database, monkeypatch):
    """A config whose workflow module is nowhere on the path, as from another directory."""
    config = write(
        "elsewhere/pyworkflow.yaml",
        f"backend: {{type: sqlite, path: {database}}}\nworkflows: [shop_not_here]\n",
    )
    monkeypatch.setenv("PYWORKFLOW_CONFIG", config)
    return config


def test_read_commands_need_no_workflow_code(invoke, unimportable_config):
    for args in (
        ("process", "list"),
        ("process", "list", "--status", "all", "--workflow", "Order"),
        ("process", "show", "order-1"),
        ("process", "history", "order-1"),
        ("process", "wait", "order-1", "--timeout", "0"),
        ("process", "signal", "order-1", "paid"),
    ):
        result = invoke(*args)
        assert "shop_not_here" not in result.output, args
        assert result.exit_code in (0, 5), (args, result.output)
    assert invoke("process", "terminate", "order-1").exit_code == 0
    assert invoke("process", "show", "order-1", "--json").exit_code == 0


def test_list_is_newest_first_with_closed_time(invoke, unimportable_config):
    result = invoke("process", "list", "--status", "all", "--json")
    listed = json.loads(result.stdout)
    assert [item["status"] for item in listed] == ["open", "completed"]
    assert listed[0]["closed"] is None and listed[0]["duration_seconds"] is None
    assert listed[1]["closed"] >= listed[1]["started"]
    assert listed[1]["duration_seconds"] >= 0


def test_show_gives_runs_and_earlier_runs_by_number(invoke, unimportable_config):
    latest = json.loads(invoke("process", "show", "order-1", "--json").stdout)
    assert latest["input"] == "second" and latest["status"] == "open"
    assert [run["status"] for run in latest["runs"]] == ["completed", "open"]
    assert [run["run"] for run in latest["runs"]] == [1, 2]

    first = json.loads(invoke("process", "show", "order-1", "--run", "1", "--json").stdout)
    assert first["input"] == "first"
    assert first["result"] == {"type": "completed", "result": "first"}
    assert first["closed"] is not None and first["duration_seconds"] >= 0

    text = invoke("process", "show", "order-1", "--run", "1").stdout
    assert "closed:" in text and "(after " in text
    assert "runs (show one with --run N):" in text

    missing = invoke("process", "show", "order-1", "--run", "3")
    assert missing.exit_code == 3
    assert "has 2 run(s); no run 3" in missing.stderr


def test_history_prints_the_events_alone(invoke, unimportable_config):
    events = json.loads(invoke("process", "history", "order-1", "--run", "1", "--json").stdout)
    assert [event["type"] for event in events] == [
        "process_started",
        "decision_started",
        "decision",
    ]
    text = invoke("process", "history", "order-1").stdout.splitlines()
    assert text[0].split()[:2] == ["#", "TIME"]
    assert [line.split()[3] for line in text[1:]] == ["process_started"]
    assert invoke("process", "history", "nobody").exit_code == 3


def test_terminate(invoke, unimportable_config, database):
    result = invoke("process", "terminate", "order-1", "--reason", '"stuck"', "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reason"] == "stuck"
    with SQLiteBackend(database) as backend:
        process = backend.process_by_id("order-1")
    assert process.status == "terminated"
    assert process.result.reason == "stuck"
    again = invoke("process", "terminate", "order-1")
    assert again.exit_code == 2
    assert invoke("process", "terminate", "nobody").exit_code == 3


def test_signal_json_prints_what_the_history_stores(invoke, unimportable_config, database):
    result = invoke("process", "signal", "order-1", "paid", "--json")
    assert json.loads(result.stdout) == {"id": "order-1", "signal": "paid", "data": {}}
    with SQLiteBackend(database) as backend:
        [stored] = [
            e.signal for e in backend.process_by_id("order-1").history if e.type == "signal"
        ]
    assert stored.data == {}


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_signal_name_is_refused(invoke, unimportable_config, database, name):
    result = invoke("process", "signal", "order-1", name)
    assert result.exit_code == 2
    assert "NAME" in result.stderr and "must not be empty" in result.stderr
    with SQLiteBackend(database) as backend:
        assert all(e.type != "signal" for e in backend.process_by_id("order-1").history)
