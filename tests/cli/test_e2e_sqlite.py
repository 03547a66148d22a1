"""End to end on SQLite: worker processes, shell commands, signals.

Skipped until the SQLite backend is part of the installation.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from .processes import Background, eventually, run

pytest.importorskip("pyworkflow.backend.sqlite")

BUNDLED = (
    Path(__file__).resolve().parents[2] / "pyworkflow_cli" / "examples" / "multiplication.yaml"
)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "pyworkflow.yaml"
    path.write_text(
        "backend:\n"
        "  type: sqlite\n"
        f"  path: {tmp_path / 'workflows.db'}\n"
        "workflows:\n"
        "  - pyworkflow.examples.multiplication\n"
        "  - tests.cli.sample_workflows\n"
        "logging:\n"
        "  format: json\n"
    )
    return str(path)


@pytest.fixture
def workers(tmp_path: Path, config: str):
    started = {
        kind: Background(tmp_path / f"{kind}.log", "worker", kind, "--config", config)
        for kind in ("activity", "decision")
    }
    yield started
    for worker in started.values():
        worker.kill()


def test_two_workers_multiply_three_by_four(workers, config):
    started = run("process", "start", "Foo", "--input", "[3,4]", "--config", config)
    assert started.returncode == 0, started.stderr
    process_id = started.stdout.strip()

    waited = run("process", "wait", process_id, "--timeout", "60", "--config", config)
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout == "12\n"

    shown = run("process", "show", process_id, "--json", "--config", config)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["status"] == "completed"
    assert data["result"] == {"type": "completed", "result": 12}

    for worker in workers.values():
        worker.signal(signal.SIGTERM)
    assert [worker.wait() for worker in workers.values()] == [0, 0]

    activity_lines = workers["activity"].log_records()
    [task] = [line for line in activity_lines if line.get("process_id") == process_id]
    assert task["activity"] == "Multiplication"
    assert task["outcome"] == "completed"
    assert task["attempt"] == 1
    assert "duration_ms" in task
    decisions = [r for r in workers["decision"].log_records() if r.get("process_id") == process_id]
    assert {r["workflow"] for r in decisions} == {"Foo"}


def test_sigterm_mid_task_exits_0_after_the_task_completes(workers, config, tmp_path):
    gate = {"started": str(tmp_path / "started"), "release": str(tmp_path / "release")}
    started = run("process", "start", "Gated", "--input", json.dumps(gate), "--config", config)
    assert started.returncode == 0, started.stderr
    process_id = started.stdout.strip()
    activity = workers["activity"]

    eventually(lambda: Path(gate["started"]).exists(), "the activity to start")
    activity.signal(signal.SIGTERM)
    eventually(
        lambda: activity.logged(lambda r: "SIGTERM received" in r["event"]),
        "the worker to take the signal",
    )
    assert activity.alive  # still busy with the task in hand
    Path(gate["release"]).touch()

    assert activity.wait() == 0
    outcomes = [r.get("outcome") for r in activity.log_records() if r.get("process_id")]
    assert outcomes == ["completed"]
    assert activity.log_records()[-1]["event"] == "worker stopped"

    waited = run("process", "wait", process_id, "--timeout", "60", "--config", config)
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout == '"done"\n'


def test_list_and_signal_across_processes(workers, config, tmp_path):
    gate = {"release": str(tmp_path / "never")}
    process_id = run(
        "process", "start", "Gated", "--input", json.dumps(gate), "--tag", "e2e", "-c", config
    ).stdout.strip()
    listed = run("process", "list", "--tag", "e2e", "--json", "-c", config)
    assert [item["id"] for item in json.loads(listed.stdout)] == [process_id]
    assert (
        run("process", "signal", process_id, "poke", "--data", "[1]", "-c", config).returncode == 0
    )
    assert run("process", "cancel", process_id, "-c", config).returncode == 0
    closed = run("process", "signal", process_id, "poke", "-c", config)
    assert closed.returncode == 2
    assert closed.stderr.startswith("Error: ") and "Traceback" not in closed.stderr


def test_readme_run_command_needs_no_config(tmp_path):
    result = run(
        "process", "run", "pyworkflow.examples.multiplication:Foo", "--input", "[3,4]", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "12\n"
    assert (tmp_path / "pyworkflow.db").exists()
    listed = run("process", "list", "--status", "completed", "--json", cwd=tmp_path)
    assert [item["workflow"] for item in json.loads(listed.stdout)] == ["Foo"]


def test_run_drives_only_the_process_it_started(tmp_path):
    waiting = run(
        "process",
        "start",
        "pyworkflow.examples.multiplication:Foo",
        "--input",
        "[1,2]",
        cwd=tmp_path,
    )
    assert waiting.returncode == 0, waiting.stderr
    result = run(
        "process", "run", "pyworkflow.examples.multiplication:Foo", "--input", "[3,4]", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "12\n"
    still_open = run("process", "show", waiting.stdout.strip(), "--json", cwd=tmp_path)
    assert json.loads(still_open.stdout)["status"] == "open"


def test_bundled_example_config(tmp_path):
    result = run(
        "process", "run", "Foo", "--input", "[3,4]", "--config", str(BUNDLED), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "12\n"


def test_database_in_a_directory_that_is_a_file_exits_2(tmp_path):
    """A path that cannot work is a config error: the units do not restart on 2."""
    (tmp_path / "a-file").write_text("")
    config = tmp_path / "bad.yaml"
    config.write_text(f"backend:\n  type: sqlite\n  path: {tmp_path / 'a-file' / 'x.db'}\n")
    result = run("process", "list", "--config", str(config))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
