"""Ctrl-C on a real ``pyworkflow`` process: the first waits for the task in
hand, the second exits at once with 130."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from .processes import Background, eventually


def test_second_sigint_exits_at_once(tmp_path: Path):
    config = tmp_path / "memory.yaml"
    config.write_text("backend: {type: memory}\nworkflows: [tests.cli.sample_workflows]\n")
    gate = {"started": str(tmp_path / "started"), "release": str(tmp_path / "never")}
    command = Background(
        tmp_path / "run.log",
        "process", "run", "Gated", "--input", json.dumps(gate), "--config", str(config), "--debug",
    )  # fmt: skip
    try:
        eventually(lambda: Path(gate["started"]).exists(), "the activity to start")
        command.signal(signal.SIGINT)
        eventually(
            lambda: command.logged(lambda r: "SIGINT received" in r["event"]),
            "the first SIGINT to be taken",
        )
        assert command.alive  # waiting for the task in hand, which never ends
        command.signal(signal.SIGINT)
        assert command.wait() == 130
        assert command.logged(lambda r: "second SIGINT" in r["event"])
    finally:
        command.kill()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_first_signal_finishes_the_task_then_exits_leaving_the_process_open(
    tmp_path: Path, signum: signal.Signals, code: int
):
    config = tmp_path / "memory.yaml"
    config.write_text("backend: {type: memory}\nworkflows: [tests.cli.sample_workflows]\n")
    gate = {"started": str(tmp_path / "started"), "release": str(tmp_path / "release")}
    command = Background(
        tmp_path / "run.log",
        "process", "run", "Gated", "--input", json.dumps(gate), "--config", str(config), "--debug",
    )  # fmt: skip
    try:
        eventually(lambda: Path(gate["started"]).exists(), "the activity to start")
        command.signal(signum)
        eventually(
            lambda: command.logged(lambda r: f"{signum.name} received" in r["event"]),
            "the signal to be taken",
        )
        Path(gate["release"]).touch()
        assert command.wait() == code
        assert command.logged(lambda r: r.get("outcome") == "completed")
        assert "Interrupted: process" in command.log.read_text()
    finally:
        command.kill()
