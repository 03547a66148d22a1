"""A PostgreSQL database of the tests' own, made once per session and dropped at its end.

Every backend a test makes gets a fresh schema in it, so each starts empty as a
memory backend does; schemas are dropped when the test ends. The server is the
local one (127.0.0.1:5432, user postgres, trust auth) unless PYWORKFLOW_TEST_PG
names another DSN. Where no server answers, tests that need it are skipped, but
fail in CI (CI=true): there a skipped backend would hide a broken one.
"""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SERVER_DSN = os.environ.get("PYWORKFLOW_TEST_PG", "host=127.0.0.1 port=5432 user=postgres")


def server_dsn(dbname: str = "postgres") -> str:
    params = conninfo_to_dict(SERVER_DSN)
    params["dbname"] = dbname
    return make_conninfo(**params)


class SessionDatabase:
    """Created on first use; ``drop`` at session end removes it and all it holds."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.unreachable: str | None = None

    def dsn(self) -> str:
        """The database's DSN; skips (or, in CI, fails) the test if there is no server."""
        if self.name is None and self.unreachable is None:
            name = f"pyworkflow_test_{secrets.token_hex(4)}"
            try:
                with psycopg.connect(server_dsn(), autocommit=True, connect_timeout=5) as admin:
                    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                self.name = name
            except psycopg.Error as error:
                self.unreachable = str(error).strip().splitlines()[0]
        if self.name is None:
            message = f"PostgreSQL not reachable at {SERVER_DSN}: {self.unreachable}"
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(message)
            pytest.skip(message)
        # Commits need not wait for the disk here: the tests never crash the server.
        return make_conninfo(server_dsn(self.name), options="-c synchronous_commit=off")

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn(), autocommit=True)

    def new_schema_name(self) -> str:
        return f"pw_{secrets.token_hex(6)}"

    def drop_schemas(self, names: list[str]) -> None:
        if not names or self.name is None:
            return
        with self.admin() as admin:
            for name in names:
                admin.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                )

    def drop(self) -> None:
        if self.name is None:
            return
        with psycopg.connect(server_dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )
        self.name = None


DATABASE = SessionDatabase()
