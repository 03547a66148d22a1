"""SQL shared by the SQL stores, kept in ``.sql`` files beside this module.

``queries.sql`` holds the statements every dialect can run as written;
``<dialect>_queries.sql`` a dialect's own version of some of them, where it
must say them differently; ``<dialect>_<version>.sql`` holds each dialect's
schema migrations. Keeping the
text out of Python lets the PostgreSQL store reuse the statements, and lets a
reader see a store's whole conversation with its database in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def _read(filename: str) -> str:
    return resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")


_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Statements(dict[str, str]):
    """Statements by name, and the parameter style they are written in, for the
    few a transaction composes as it goes."""

    def __init__(self, statements: dict[str, str], paramstyle: str) -> None:
        super().__init__(statements)
        self.paramstyle = paramstyle
        self._updates: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def update_setting(self, table: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
        """An UPDATE that sets just ``columns``. SQLite rewrites the entry of every
        index on a column its SET names, changed or not: a run's full update
        touches seven indexes where a claim changes the columns of two."""
        found = self._updates.get((table, keys, columns))
        if found is None:
            assignments = ", ".join(f"{column} = :{column}" for column in columns)
            where = " AND ".join(f"{key} = :{key}" for key in keys)
            found = self._in_style(f"UPDATE {table} SET {assignments} WHERE {where}")
            self._updates[(table, keys, columns)] = found
        return found

    def _in_style(self, sql: str) -> str:
        if self.paramstyle == "named":
            return sql
        return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


@cache
def queries(
    paramstyle: str = "named", dialect: str | None = None, locks: bool = True
) -> Statements:
    """Statements by name from ``queries.sql``, in the driver's parameter style:
    ``named`` (``:name``, sqlite3) as written, or ``pyformat`` (``%(name)s``, psycopg).
    With ``dialect``, that dialect's ``<dialect>_queries.sql`` replaces or adds some.
    ``locks=False`` gives the statements for snapshot reads, which lock no row."""
    statements = parse(_read("queries.sql"))
    if dialect is not None:
        statements.update(parse(_read(f"{dialect}_queries.sql")))
    clauses = _Locks(_LOCKS.get(dialect or "", {}) if locks else {})
    statements = {
        name: _expand_columns(sql).format_map(clauses) for name, sql in statements.items()
    }
    if paramstyle not in ("named", "pyformat"):
        raise ValueError(f"unknown paramstyle {paramstyle!r}; expected 'named' or 'pyformat'")
    styled = Statements({}, paramstyle)
    return Statements({name: styled._in_style(sql) for name, sql in statements.items()}, paramstyle)


# Row-lock clauses by dialect; a dialect not named here locks nothing row by row.
_LOCKS = {
    "postgres": {
        "lock_update": "FOR UPDATE",
        "lock_share": "FOR SHARE",
        "lock_skip": "FOR UPDATE SKIP LOCKED",
    }
}


class _Locks(dict[str, str]):
    """The lock clauses of one dialect; any other ``{lock_...}`` expands to nothing."""

    def __missing__(self, key: str) -> str:
        if not key.startswith("lock_"):
            raise KeyError(key)
        return ""


_COLUMNS = re.compile(r"\{(:?)(runs|activities)(?::(\w+))?\}")


def _expand_columns(sql: str) -> str:
    """``{runs}``: the run columns, named once in :mod:`.rows`; ``{activities:a}``: the
    activity columns of table alias ``a``; ``{:runs}``: their parameters."""
    from .rows import ACTIVITY_COLUMNS, RUN_COLUMNS

    def columns(match: re.Match[str]) -> str:
        names = RUN_COLUMNS if match.group(2) == "runs" else ACTIVITY_COLUMNS
        if match.group(1):
            return ", ".join(f":{name}" for name in names)
        alias = f"{match.group(3)}." if match.group(3) else ""
        return ", ".join(alias + name for name in names)

    return _COLUMNS.sub(columns, sql)


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


def record_schema_version(
    execute: Callable[[str, dict[str, int]], object],
    statements: dict[str, str],
    found: int,
    target: int,
) -> None:
    """Write ``target`` to the version table after migrating from ``found``."""
    if found == 0:
        execute(statements["insert_schema_version"], {"version": target})
    elif found < target:
        execute(statements["update_schema_version"], {"version": target})
