"""PostgreSQL: a transaction's statements sent in as few round trips as their
answers allow, straight through libpq's pipeline mode.

An engine call is a dozen short prepared statements, and psycopg's cursors spend
more CPU on each (its generators, its pipeline bookkeeping, a cursor's state)
than the server spends running it: on two cores shared with the server that was
most of a worker's time. This module keeps psycopg for what it does well (the
connection, its adapters, its errors) and sends through the connection's
``pgconn`` itself: each distinct statement prepared once per connection, its
parameters dumped and its rows loaded by psycopg's (C) ``Transformer``.
"""

from __future__ import annotations

import contextlib
import re
import select
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import abc, errors, pq
from psycopg.adapt import PyFormat, Transformer

# A prepared statement that has gone (a DEALLOCATE ALL, a server-side DISCARD):
# the connection's register of what it prepared no longer holds.
UNKNOWN_STATEMENT = "26000"

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_FAILED = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED)
_ROWS = pq.ExecStatus.TUPLES_OK
# poll() has no limit on descriptor numbers, where select() stops at 1024.
_POLL = hasattr(select, "poll")
_READ_OR_WRITE = (select.POLLIN | select.POLLOUT) if _POLL else 0


class Answer:
    """One statement's rows, read as from a cursor."""

    __slots__ = ("_rows", "_next", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows


class _Statement:
    """A query in PostgreSQL's own placeholders, and how to order its parameters."""

    __slots__ = ("text", "names", "count", "formats")

    def __init__(self, query: str) -> None:
        names: list[str] = []
        positional = 0

        def number(match: re.Match[str]) -> str:
            nonlocal positional
            if match.group(0) == "%%":
                return "%"
            if match.group(1) is None:
                positional += 1
                return f"${positional}"
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.text = _PLACEHOLDER.sub(number, query).encode()
        self.names = tuple(names) if names else None
        self.count = len(names) or positional
        self.formats = [PyFormat.AUTO] * self.count

    def values(self, params: Any) -> Sequence[Any]:
        if params is None:
            return ()
        if self.names is None:
            return params
        return [params[name] for name in self.names]


class _Connection:
    """What this module keeps per connection: the statements it prepared, by query
    and parameter types, and the transformer that dumps and loads for it."""

    __slots__ = ("prepared", "made", "transformer", "encoding")

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.prepared: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        self.made = 0  # names are never reused: one may outlive its entry here
        self.transformer: abc.Transformer = Transformer(connection)
        self.encoding = connection.info.encoding

    def name(self) -> bytes:
        self.made += 1
        return b"pw_%d" % self.made


_statements: dict[str, _Statement] = {}
# Each connection carries its own state, as an attribute: the state's transformer
# refers to the connection, so a table keyed by connection (even weakly) would
# keep every connection ever used alive; a cycle within the connection goes with it.
_STATE = "_pyworkflow_pipeline"
_state_lock = threading.Lock()


def _statement(query: str) -> _Statement:
    found = _statements.get(query)
    if found is None:
        found = _statements[query] = _Statement(query)
    return found


def _state(connection: psycopg.Connection[Any]) -> _Connection:
    found: _Connection | None = getattr(connection, _STATE, None)
    if found is None:
        with _state_lock:
            found = getattr(connection, _STATE, None)
            if found is None:
                found = _Connection(connection)
                setattr(connection, _STATE, found)
    return found


class Pipeline:
    """A transaction's statements, sent in as few round trips as their answers allow.

    ``BEGIN`` and the writes whose answer nobody reads are held, and go with the
    next statement whose answer is read, or with the COMMIT: all in one pipeline,
    answered at its sync. The server runs them in the order they were made, so
    every read still sees the writes before it, and a held write that fails fails
    the transaction at that sync, before anything commits. Each is a prepared
    statement (several statements in one simple query would be parsed and planned
    by the server every time, which costs it more than the trip)."""

    def __init__(self, connection: psycopg.Connection[Any], begin: str | None) -> None:
        self._connection = connection
        self._state = _state(connection)
        self._begins = begin is not None
        self._held: list[tuple[str, Any]] = [] if begin is None else [(begin, None)]
        self._begun = False

    def hold(self, query: str, params: Any) -> None:
        self._held.append((query, params))

    def send(self, query: str, params: Any = None) -> Answer:
        """``query`` run after what is held; its answer."""
        return self.send_each([(query, params)])[-1]

    def send_each(self, statements: Sequence[tuple[str, Any]]) -> list[Answer]:
        """Each statement run in turn after what is held; their answers."""
        held = len(self._held)
        answers = self._exchange([*self._held, *statements])
        self._held.clear()
        self._begun = True
        return answers[held:]

    def commit(self, *finals: tuple[str, Any]) -> None:
        """What is held, then ``finals`` (a notification, a setting for the commit)
        and COMMIT, in one trip; a transaction that never sent a statement has
        nothing to commit."""
        if not self._begun and len(self._held) == self._begins:
            return  # BEGIN alone, or nothing: no statement was ever made
        statements = [*self._held, *finals]
        if self._begins:
            statements.append(("COMMIT", None))
        self._held.clear()
        self._exchange(statements)

    def _exchange(self, statements: Sequence[tuple[str, Any]]) -> list[Answer]:
        pgconn = self._connection.pgconn
        state = self._state
        transformer = state.transformer
        # What each command sent is: a statement to answer, or the prepare of one
        # (with its key, to be forgotten if the pipeline failed before it ran).
        sent: list[tuple[bytes, tuple[int, ...]] | None] = []
        answered = False
        pgconn.enter_pipeline_mode()
        try:
            for query, params in statements:
                statement = _statement(query)
                values = transformer.dump_sequence(statement.values(params), statement.formats)
                types = tuple(transformer.types or ()) if statement.count else ()
                key = (statement.text, types)
                name = state.prepared.get(key)
                if name is None:
                    name = state.prepared[key] = state.name()
                    pgconn.send_prepare(name, statement.text, types or None)
                    sent.append(key)
                formats = transformer.formats if statement.count else None
                pgconn.send_query_prepared(name, values or None, formats)
                sent.append(None)
            pgconn.pipeline_sync()
            results = _results(pgconn)
            pgconn.exit_pipeline_mode()
            answered = True
        finally:
            if not answered:
                # Stopped before the sync's answer (the connection failed, or the
                # thread was interrupted): what the connection would answer next is
                # unknown, so it is closed, and the next call connects afresh.
                for each in sent:
                    if each is not None:
                        state.prepared.pop(each, None)
                with contextlib.suppress(Exception):
                    self._connection.close()
        return _answers(sent, results, state)


def _results(pgconn: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """Each command's result, in the order sent, up to the sync."""
    while pgconn.flush():
        _wait(pgconn.socket, writable=True)
        pgconn.consume_input()
    results: list[pq.abc.PGresult] = []
    while True:
        while pgconn.is_busy():
            _wait(pgconn.socket, writable=False)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            continue  # the end of one command's results
        if result.status == _SYNC:
            return results
        results.append(result)


def _wait(socket: int, writable: bool) -> None:
    """Until the socket can be read (or, with ``writable``, written). A connection
    broken under it (by the server, or by the watchdog) wakes it too, and the
    next libpq call fails."""
    if _POLL:
        poller = select.poll()
        poller.register(socket, _READ_OR_WRITE if writable else select.POLLIN)
        poller.poll()
    else:  # no poll(): select(), for descriptors below FD_SETSIZE
        select.select([socket], [socket] if writable else [], [])


def _answers(
    sent: list[tuple[bytes, tuple[int, ...]] | None],
    results: list[pq.abc.PGresult],
    state: _Connection,
) -> list[Answer]:
    """The statements' answers; the first failure raised, after forgetting the
    prepares it kept from running."""
    failure = None
    answers = []
    for key, result in zip(sent, results, strict=True):
        if result.status in _FAILED:
            if key is not None:
                state.prepared.pop(key, None)
            if failure is None and result.status == pq.ExecStatus.FATAL_ERROR:
                failure = result
        elif key is None:
            answers.append(_answer(result, state.transformer))
    if failure is not None:
        error = errors.error_from_result(failure, encoding=state.encoding)
        if error.sqlstate == UNKNOWN_STATEMENT:
            state.prepared.clear()
        raise error
    return answers


def _answer(result: pq.abc.PGresult, transformer: abc.Transformer) -> Answer:
    if result.status == _ROWS:
        transformer.set_pgresult(result)
        return Answer(transformer.load_rows(0, result.ntuples, tuple), result.ntuples)
    return Answer([], result.command_tuples or 0)
