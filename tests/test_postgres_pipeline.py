"""PostgreSQL's pipeline: statements sent through libpq, each prepared once per
connection, answered as psycopg's cursors answer, and failing as they fail."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone

import psycopg
import pytest

from pyworkflow.backend._postgres_pipeline import UNKNOWN_STATEMENT, Pipeline
from pyworkflow.backend.postgres import PostgresBackend
from pyworkflow.manager import Manager

from .postgres_db import DATABASE
from .support import ALL_WORKFLOWS, start

INSERT = "INSERT INTO t (id, name, at) VALUES (%(id)s, %(name)s, %(at)s)"
SELECT_ONE = "SELECT id, name, at FROM t WHERE id = %(id)s"
MOMENT = datetime(2026, 12, 6, 12, 30, tzinfo=timezone.utc)


@pytest.fixture
def connection() -> Iterator[psycopg.Connection]:
    with psycopg.connect(DATABASE.dsn(), autocommit=True, prepare_threshold=None) as made:
        made.execute("CREATE TEMP TABLE t (id bigint PRIMARY KEY, name text, at timestamptz)")
        yield made


@pytest.fixture
def manager() -> Iterator[Manager]:
    """A manager on a PostgreSQL backend of a fresh schema."""
    schema = DATABASE.new_schema_name()
    backend = PostgresBackend(DATABASE.dsn(), schema=schema)
    try:
        yield Manager(backend, workflows=ALL_WORKFLOWS)
    finally:
        backend.close()
        DATABASE.drop_schemas([schema])


def connection_of(manager: Manager) -> psycopg.Connection:
    backend = manager.backend
    assert isinstance(backend, PostgresBackend)
    return backend.store._connection()


def prepared(connection: psycopg.Connection, text: str) -> int:
    row = connection.execute(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", (text,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_answers_are_typed_as_psycopgs_cursor_types_them(connection) -> None:
    pipeline = Pipeline(connection, "BEGIN")
    pipeline.hold(INSERT, {"id": 1, "name": "one", "at": MOMENT})
    pipeline.hold(INSERT, {"id": 2, "name": None, "at": None})
    answer = pipeline.send("SELECT id, name, at FROM t ORDER BY id")
    pipeline.commit()
    expected = connection.execute("SELECT id, name, at FROM t ORDER BY id").fetchall()
    assert answer.fetchall() == expected == [(1, "one", MOMENT), (2, None, None)]


def test_named_positional_repeated_and_escaped_placeholders(connection) -> None:
    pipeline = Pipeline(connection, None)
    named = pipeline.send("SELECT %(a)s::int + %(b)s::int, %(a)s::int, '100%%'", {"a": 2, "b": 3})
    positional = pipeline.send("SELECT %s::text || %s::text", ("x", "y"))
    assert named.fetchone() == (5, 2, "100%")
    assert named.fetchone() is None
    assert positional.fetchall() == [("xy",)]


def test_held_writes_run_in_order_before_the_read_that_takes_them(connection) -> None:
    pipeline = Pipeline(connection, "BEGIN")
    pipeline.hold(INSERT, {"id": 1, "name": "first", "at": MOMENT})
    pipeline.hold("UPDATE t SET name = %(name)s WHERE id = %(id)s", {"id": 1, "name": "second"})
    assert pipeline.send(SELECT_ONE, {"id": 1}).fetchone() == (1, "second", MOMENT)
    updated = pipeline.send("UPDATE t SET name = 'third' WHERE id >= %(id)s", {"id": 0})
    assert updated.rowcount == 1
    pipeline.commit()
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_each_statement_is_prepared_once_per_connection(connection) -> None:
    for index in range(5):
        pipeline = Pipeline(connection, "BEGIN")
        pipeline.hold(INSERT, {"id": index, "name": "n", "at": MOMENT})
        pipeline.send(SELECT_ONE, {"id": index})
        pipeline.commit()
    insert = INSERT.replace("%(id)s", "$1").replace("%(name)s", "$2").replace("%(at)s", "$3")
    assert prepared(connection, insert) == 1
    assert prepared(connection, SELECT_ONE.replace("%(id)s", "$1")) == 1


def test_a_failed_statement_fails_the_exchange_and_the_connection_goes_on(connection) -> None:
    """A statement the server refuses raises psycopg's own error; what came after it
    in the pipeline never ran (nor was prepared), and runs on a later try."""
    Pipeline(connection, None).send(INSERT, {"id": 1, "name": "taken", "at": MOMENT})
    later = "SELECT count(*) FROM t WHERE name = %(name)s"
    pipeline = Pipeline(connection, "BEGIN")
    pipeline.hold(INSERT, {"id": 1, "name": "again", "at": MOMENT})
    with pytest.raises(psycopg.errors.UniqueViolation):
        pipeline.send(later, {"name": "taken"})
    connection.rollback()
    assert Pipeline(connection, None).send(later, {"name": "taken"}).fetchone() == (1,)


def test_a_statement_deallocated_elsewhere_is_prepared_again_after_one_failure(
    connection,
) -> None:
    Pipeline(connection, None).send(SELECT_ONE, {"id": 1})
    connection.execute("DEALLOCATE ALL")
    with pytest.raises(psycopg.Error) as failure:
        Pipeline(connection, None).send(SELECT_ONE, {"id": 1})
    assert failure.value.sqlstate == UNKNOWN_STATEMENT
    assert Pipeline(connection, None).send(SELECT_ONE, {"id": 1}).fetchall() == []


def test_a_call_after_its_statements_were_deallocated_succeeds_by_itself(manager) -> None:
    """A pooler or an administrator may DEALLOCATE ALL: the call that finds its
    statements gone is tried again, and prepares them anew."""
    process_id = start(manager)
    connection_of(manager).execute("DEALLOCATE ALL")
    assert manager.next_decision() is not None
    assert manager.process_by_id(process_id).is_open


def test_a_parameter_none_once_and_typed_later_is_prepared_for_each(connection) -> None:
    pipeline = Pipeline(connection, None)
    pipeline.send(INSERT, {"id": 1, "name": None, "at": None})
    pipeline.send(INSERT, {"id": 2, "name": "two", "at": MOMENT})
    assert pipeline.send("SELECT count(*) FROM t").fetchone() == (2,)


def test_an_exchange_stopped_before_its_answers_closes_its_connection(connection) -> None:
    """Statements queued and then abandoned (here: a parameter psycopg cannot send)
    leave answers nobody would read in order: the connection is not used again."""
    pipeline = Pipeline(connection, "BEGIN")
    pipeline.hold(INSERT, {"id": 1, "name": "queued", "at": MOMENT})
    with pytest.raises(psycopg.ProgrammingError):
        pipeline.send(SELECT_ONE, {"id": object()})
    assert connection.closed


def test_a_store_goes_on_after_its_connection_was_closed_under_it(manager) -> None:
    process_id = start(manager)
    connection_of(manager).close()
    assert manager.process_by_id(process_id).is_open
    assert manager.next_decision() is not None


def test_outside_a_transaction_held_statements_go_without_a_commit(connection) -> None:
    pipeline = Pipeline(connection, None)
    pipeline.hold(INSERT, {"id": 1, "name": "alone", "at": MOMENT})
    pipeline.commit()
    assert connection.execute("SELECT name FROM t").fetchall() == [("alone",)]
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_connection_let_go_is_not_kept_alive_by_what_the_pipeline_knows_of_it() -> None:
    """Each reconnect, and each short-lived thread, makes a connection: what the
    pipeline keeps for one (its prepared statements, its transformer) must not
    keep it in memory once nobody else holds it."""
    made = psycopg.connect(DATABASE.dsn(), autocommit=True, prepare_threshold=None)
    Pipeline(made, None).send("SELECT 1").fetchone()
    gone = weakref.ref(made)
    made.close()
    del made
    gc.collect()
    assert gone() is None
