"""The systemd units agree with the command: the exit code for a config error
is not restarted, and the directory SQLite writes to is one systemd creates."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from pyworkflow_cli.errors import EXIT_BACKEND_UNREACHABLE, EXIT_USAGE

from .conftest import REPO

UNITS = sorted((REPO / "contrib" / "systemd").glob("*.service"))


def service(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser["Service"]


def test_there_is_a_unit_per_worker_kind():
    assert [unit.name for unit in UNITS] == [
        "pyworkflow-activity-worker.service",
        "pyworkflow-decision-worker.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_unit(unit):
    settings = service(unit)
    kind = unit.stem.split("-")[1]
    assert settings["ExecStart"].split()[1:] == ["worker", kind]
    assert settings["WorkingDirectory"] == f"/var/lib/{settings['StateDirectory']}"
    prevented = {int(code) for code in settings["RestartPreventExitStatus"].split()}
    assert EXIT_USAGE in prevented
    assert EXIT_BACKEND_UNREACHABLE not in prevented
    # A worker exits 0 on its own only when something is wrong (systemctl stop
    # is never restarted), so every exit is restarted.
    assert settings["Restart"] == "always"
    assert settings["KillSignal"] == "SIGTERM"
