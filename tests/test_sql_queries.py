"""The shared SQL file: every statement the SQL transaction uses, in each style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyworkflow.backend._sql import migrations, parse, queries
from pyworkflow.backend.sqlite import SCHEMA_VERSION

TRANSACTION = Path(__file__).resolve().parent.parent / "pyworkflow/backend/_sql/transaction.py"


def test_every_statement_the_transaction_names_exists() -> None:
    used = set(re.findall(r'(?:_sql\[|_one\(|_all\()"(\w+)"', TRANSACTION.read_text()))
    assert used
    assert used <= set(queries())


def test_named_statements_are_parsed_without_comments() -> None:
    text = "-- a file comment\n-- name: one\n-- about one\nSELECT 1;\n\n-- name: two\nSELECT :x\n"
    assert parse(text) == {"one": "SELECT 1", "two": "SELECT :x"}


def test_pyformat_rewrites_every_parameter_and_nothing_else() -> None:
    named, pyformat = queries(), queries("pyformat")
    assert named.keys() == pyformat.keys()
    assert pyformat["delete_timer"] == (
        "DELETE FROM timers WHERE run_id = %(run_id)s AND timer_id = %(timer_id)s"
    )
    for name, sql in pyformat.items():
        assert not re.search(r"(?<![:\w]):\w", sql), name
        assert set(re.findall(r":(\w+)", named[name])) == set(re.findall(r"%\((\w+)\)s", sql))


def test_unknown_paramstyle_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown paramstyle 'qmark'"):
        queries("qmark")


def test_sqlite_migrations_start_at_one_without_gaps() -> None:
    versions = list(migrations("sqlite"))
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_postgres_versions_of_shared_statements_take_the_same_parameters() -> None:
    shared, postgres = queries(), queries(dialect="postgres")
    assert shared.keys() <= postgres.keys()
    overridden = [name for name in shared if postgres[name] != shared[name]]
    assert "next_activity" in overridden
    for name in overridden:
        assert set(re.findall(r":(\w+)", postgres[name])) == set(
            re.findall(r":(\w+)", shared[name])
        ), name
