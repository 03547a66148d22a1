"""The systemd units agree with the command: the exit code for a config error
is not restarted, and the directory SQLite writes to is one systemd creates."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
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


HARDENING = {
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateDevices": "true",
    "ProtectKernelTunables": "true",
    "ProtectKernelModules": "true",
    "ProtectKernelLogs": "true",
    "LockPersonality": "true",
    "NoNewPrivileges": "true",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
}


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_unit_is_hardened_and_watched(unit):
    settings = service(unit)
    for key, value in HARDENING.items():
        assert settings.get(key) == value, key
    assert set(settings["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    lines = unit.read_text().splitlines()
    filters = [line for line in lines if line.startswith("SystemCallFilter=")]
    assert "SystemCallFilter=@system-service" in filters
    # The worker notifies (pyworkflow_cli.sdnotify); the watchdog restarts a hung one.
    assert settings["Type"] == "notify"
    assert int(settings["WatchdogSec"]) > 0
    # The state directory stays writable under ProtectSystem=strict.
    assert settings["StateDirectory"] == "pyworkflow"


def _installed_copy(unit: Path, tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at an executable that exists here."""
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/pyworkflow/venv/bin/pyworkflow", sys.executable))
    return copy


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.stem)
def test_systemd_analyze_verifies_and_scores_the_unit(unit, tmp_path):
    copy = _installed_copy(unit, tmp_path)
    verify = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", str(copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot score offline: {security.stderr.strip()}")
    assert float(match.group(1)) <= 2.0
