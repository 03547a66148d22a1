"""SQL shared by the SQL stores, kept in ``.sql`` files beside this module.

``queries.sql`` holds the statements every dialect can run as written;
``<dialect>_<version>.sql`` holds each dialect's schema migrations. Keeping the
text out of Python lets the PostgreSQL store reuse the statements, and lets a
reader see a store's whole conversation with its database in one place.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def _read(filename: str) -> str:
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


@cache
def queries() -> dict[str, str]:
    """Statements by name, as written in ``queries.sql`` (named ``:param`` style)."""
    return parse(_read("queries.sql"))


def parse(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    statements: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=False):
        lines = [line for line in body.splitlines() if not line.lstrip().startswith("--")]
        statements[name] = "\n".join(lines).strip().rstrip(";")
    return statements


def migrations(dialect: str) -> dict[int, str]:
    """Each schema version's script for ``dialect``, by version number."""
    found: dict[int, str] = {}
    pattern = re.compile(rf"^{re.escape(dialect)}_(\d+)\.sql$")
    for entry in resources.files(__name__).iterdir():
        match = pattern.match(entry.name)
        if match:
            found[int(match.group(1))] = entry.read_text(encoding="utf-8")
    return dict(sorted(found.items()))
