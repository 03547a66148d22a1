"""Run the command as users do: a real ``python -m pyworkflow_cli`` subprocess.

The time limits here only keep a broken build from hanging the suite; no test
asserts on how long anything took.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import cli_command, subprocess_env

GUARD = 60.0


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        env=subprocess_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GUARD,
    )


class Background:
    """A long-running command, its stderr (the logs) kept in a file."""

    def __init__(self, log: Path, *args: str, cwd: Path | None = None) -> None:
        self.log = log
        self._file = log.open("w")
        self.popen = subprocess.Popen(
            cli_command(*args),
            env=subprocess_env(),
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self._file,
            text=True,
        )

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait(self) -> int:
        try:
            return self.popen.wait(GUARD)
        finally:
            self._file.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(GUARD)
        self._file.close()

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def logged(self, predicate: Callable[[dict[str, Any]], bool]) -> bool:
        return any(predicate(record) for record in self.log_records())


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)
