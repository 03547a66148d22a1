from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pyworkflow.backend.memory import MemoryBackend
from pyworkflow_cli.main import cli

REPO = Path(__file__).resolve().parents[2]

MEMORY_CONFIG = """\
backend:
  type: memory
workflows:
  - pyworkflow.examples.multiplication
  - tests.cli.sample_workflows
"""

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test in an empty directory, with no config from the environment,
    and the root logger as it was."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYWORKFLOW_CONFIG", raising=False)
    monkeypatch.syspath_prepend(str(REPO))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def invoke() -> Invoke:
    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], str]:
    def write_file(name: str, text: str) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)

    return write_file


@pytest.fixture
def memory_config(write: Callable[[str, str], str]) -> str:
    return write("memory.yaml", MEMORY_CONFIG)


@pytest.fixture
def shared_backend(monkeypatch: pytest.MonkeyPatch) -> MemoryBackend:
    """One memory backend behind every command of the test, as a database would be."""
    backend = MemoryBackend()
    monkeypatch.setattr("pyworkflow_cli.backends.create_backend", lambda config, **options: backend)
    return backend


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("PYWORKFLOW_CONFIG", None)
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pyworkflow_cli", *args]
