"""The README's quickstart runs as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCanceled, ProcessFailed
from pyworkflow.testing import run_process

README = Path(__file__).resolve().parent.parent / "README.md"


def quickstart_code() -> str:
    text = README.read_text()
    section = text[text.index("## Quickstart") : text.index("## What a process can do")]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.S))


def test_the_quickstart_prints_twelve():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(quickstart_code(), str(README), "exec"), {"__name__": "readme"})
    assert printed.getvalue().strip() == "ProcessCompleted(result=12)"


def quickstart_workflow() -> type:
    """The README's FooWorkflow, defined by running the quickstart as written."""
    namespace: dict = {"__name__": "readme"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(quickstart_code(), str(README), "exec"), namespace)
    return namespace["FooWorkflow"]


@pytest.mark.parametrize(
    ("given", "status", "result"),
    [
        ([11, 2], "canceled", ProcessCanceled("first operand must be <= 10")),
        ("not two numbers", "failed", ProcessFailed("failed", "invalid input")),
        ([3], "failed", ProcessFailed("failed", "invalid input")),
    ],
)
def test_the_quickstart_closes_its_process_for_every_outcome(given, status, result):
    workflow = quickstart_workflow()
    with MemoryBackend() as backend:
        process = run_process(Manager(backend, [workflow]), Process(workflow, input=given))
    assert process.status == status
    assert process.result == result
