"""The README's quickstart runs as written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

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
