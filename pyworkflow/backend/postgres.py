"""The PostgreSQL store: many worker processes on many machines, one shared database.

Each engine call is one transaction at READ COMMITTED on the calling thread's
own connection, begun explicitly (the connection is in autocommit mode) so
that its BEGIN travels with its first statement. The engine reads records,
applies a rule, and writes them back; PostgreSQL alone would let two
transactions read the same run, both change it, and the later write silently
undo the earlier one (a signal lost under a decision completion, a deadline
expired twice). So:

Locking. **A run's row is the lock for everything of that run**: its history,
its activities and its timers are written only by a transaction holding the
run's row lock (``FOR UPDATE``), so every read that the engine will act on is
made under that lock and sees the latest committed state. Reads of one named
run (``get_run``, ``get_open_run``, children) wait for the lock; ``get_activity``
takes its run's lock first. Claims and sweeps of due work lock the rows they
return with ``SKIP LOCKED``: two workers never claim one task, and a sweep
leaves what another transaction holds to that transaction (every call checks
the deadlines of the rows it acts on anyway). An activity or timer is claimed
or swept together with its run, run first, so nobody ever holds an activity
or timer without its run, and the claim appends to the run's history safely.

Why rows and not a per-process advisory lock: the engine already reads each
run before it changes it, so locking that read costs no extra round trip, and
a row lock re-reads the row once granted (an advisory lock taken before a
plain read would need a second statement for every run). The engine touches
several runs in some calls (a parent and its child, a signal to another
process), in an order the rules fix; the rare cycle this allows (a parent and
its child closing at the same moment) is broken by PostgreSQL's deadlock
detector, and the call is then run again from the start, as are calls that
fail on a serialization failure or on a unique index another transaction
filled first (two starts of one process id): all of them roll back entirely,
so a fresh run is safe and gives the answer a serial order would.

A refused call (the engine raises a :class:`PyworkflowError` other than a
:class:`BackendError`) commits what it wrote first, as the SQLite store does:
the deadlines it found expired stay expired.

Idle workers LISTEN on a channel named after the schema, on one dedicated
connection per store; a transaction that gave a task list work or closed a run
NOTIFYs it as it commits, so they wake within milliseconds without polling. The
notification's payload names the task lists (kind and category) given work,
and ``RUNS_CLOSED`` when a run closed; a worker waiting for one list wakes only
for those, and a watcher waiting for a process to end only for closings: a
decision write does not wake the activity workers, and a claim or a heartbeat
notifies nobody. The schema is created on
first use and migrated forward under an advisory lock; a newer schema is
refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..clock import Clock
from ..engine import Engine
from ..engine.records import ActivityRecord, ActivityState, DecisionState, ProcessRecord
from ..exceptions import (
    BackendBusyError,
    BackendConfigurationError,
    BackendError,
    BackendUnavailableError,
)
from ._postgres_pipeline import UNKNOWN_STATEMENT, Pipeline
from ._sql import migrations, queries, record_schema_version
from ._sql.connections import ThreadConnections, Watchdog
from ._sql.rows import ACTIVITY_COLUMNS, from_micros
from ._sql.transaction import SQLTransaction, name_list
from .base import RUNS_CLOSED

SCHEMA_VERSION = 3
DEFAULT_CONNECT_TIMEOUT = 10
# Bounded waits on a server that stops answering: the server cancels a statement
# running longer than statement_timeout; the client gives up on a transaction left
# unanswered ANSWER_GRACE seconds past that (a frozen server cancels nothing), and
# TCP keepalives find a peer that vanished from an idle connection.
DEFAULT_STATEMENT_TIMEOUT = 15.0
ANSWER_GRACE = 2.0
DEFAULT_KEEPALIVES_IDLE = 10
KEEPALIVES_INTERVAL = 5
KEEPALIVES_COUNT = 3
# How often a call is tried when PostgreSQL aborts it for a conflict.
ATTEMPTS = 8
# A serialization failure, a deadlock broken by the server, a unique index filled
# by a concurrent transaction: each rolled the whole call back, and a fresh try,
# seeing what the other committed, resolves it. So does a prepared statement the
# server no longer has (a DEALLOCATE ALL): the fresh try prepares it again.
RETRYABLE_STATES = frozenset({"40001", "40P01", "23505", UNKNOWN_STATEMENT})
# The connection, not the call, failed: lost (class 08), closed by the server (an
# administrator, a shutdown, idle_session_timeout), refused for now, or a statement
# canceled by statement_timeout. The call may well succeed on a new connection.
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "57P05", "57014", "53300"})
# A payload no transaction sends (a task list's name has a colon): news for all.
EVERYBODY = "*"
# The listener wakes this often to see whether its store was closed.
LISTEN_POLL = 0.25
# Connections are in autocommit mode and begin each transaction themselves.
BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# The server's clock in microseconds since the epoch, as the rows keep times.
SERVER_MICROS = "CAST(floor(extract(epoch FROM clock_timestamp()) * 1000000) AS BIGINT)"
# Sent just before a COMMIT that need not wait for the WAL's flush (see run()).
NOT_FLUSHED = "SET LOCAL synchronous_commit TO OFF"
_ACTIVITY_WIDTH = len(ACTIVITY_COLUMNS)
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_WRITES = ("INSERT", "UPDATE", "DELETE")
# Writes whose answer the engine reads (a row count, a returned number): sent at
# once. Every other write is held and sent with the next statement that is read.
_ANSWERED_WRITES = ("delete_timer", "insert_next_event")
LOG = logging.getLogger("pyworkflow.backend.postgres")

V = TypeVar("V")


class ConflictError(BackendBusyError):
    """PostgreSQL aborted a transaction for a conflict with another; the call is retried."""


class PostgresStore:
    # Claims lock rows, SKIP LOCKED: a look first would only add a round trip.
    exclusive_writes = False

    def __init__(
        self,
        dsn: str,
        schema: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        keepalives_idle: float = DEFAULT_KEEPALIVES_IDLE,
    ) -> None:
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            # The parser's message may quote the string, password and all.
            raise BackendConfigurationError(
                "PostgreSQL DSN is not valid: expected 'postgresql://user@host/db' "
                "or 'host=... dbname=...'"
            ) from None
        self._password = str(params.get("password") or "")
        self.where = _describe(params)
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise BackendConfigurationError(
                f"{self.where}: schema name {schema!r} must be letters, digits and _"
            )
        self.schema = schema
        for name, seconds in (
            ("connect_timeout", connect_timeout),
            ("statement_timeout", statement_timeout),
            ("keepalives_idle", keepalives_idle),
        ):
            if not seconds > 0:
                raise BackendConfigurationError(
                    f"{self.where}: {name} must be a positive number of seconds"
                )
        params.setdefault("connect_timeout", str(max(1, round(connect_timeout))))
        params.setdefault("keepalives", "1")
        params.setdefault("keepalives_idle", str(max(1, round(keepalives_idle))))
        params.setdefault("keepalives_interval", str(KEEPALIVES_INTERVAL))
        params.setdefault("keepalives_count", str(KEEPALIVES_COUNT))
        # libpq reads PGOPTIONS only where the DSN names no options, and these
        # always name some: the environment's are kept by starting from them.
        options = str(params.get("options") or os.environ.get("PGOPTIONS") or "")
        if "statement_timeout" not in options:
            options = f"{options} -c statement_timeout={round(statement_timeout * 1000)}"
        if schema is not None:
            options = f"{options} -c search_path={schema}"
        params["options"] = options.strip()
        self.statement_timeout = statement_timeout
        self._watchdog: Watchdog[psycopg.Connection[Any]] = Watchdog(
            statement_timeout + ANSWER_GRACE, self._unanswered
        )
        self._conninfo = make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})
        self._statements = queries("pyformat", "postgres")
        self._read_statements = queries("pyformat", "postgres", locks=False)
        # A decision claim sent before the unit has the server's time: the claim
        # statement, at the server's clock.
        self._early_decision_claim = self._statements["next_decision"].replace(
            "%(now)s", SERVER_MICROS
        )
        self._answered_writes = frozenset(self._statements[name] for name in _ANSWERED_WRITES)
        self._local = threading.local()
        self._connections = ThreadConnections(
            self._connect,
            lambda: BackendError(f"{self.where}: the store is closed"),
            usable=lambda connection: not connection.closed,
        )
        self._closed = False
        # Bumped on every notification; waiting threads watch it. Each task list
        # named in a notification's payload has a count of its own.
        self._changed = threading.Condition()
        self._generation = 0
        self._list_generations: dict[str, int] = {}
        self._everybody = 0
        self._listener: _Listener | None = None
        self._listener_lock = threading.Lock()
        self.channel = ""
        self._purge_key = 0
        self._open_schema()

    # -- connections -----------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        """An autocommit connection: every transaction is begun explicitly, so that
        its ``BEGIN`` travels with its first statement instead of alone."""
        try:
            # Statements are prepared by the pipeline, never by psycopg, whose
            # ROLLBACK would deallocate every prepared statement it knew of.
            return psycopg.connect(self._conninfo, autocommit=True, prepare_threshold=None)
        except psycopg.Error as error:
            raise self._connect_error(error) from None

    def _connection(self) -> psycopg.Connection[Any]:
        return self._connections.get()

    def _unanswered(self, connection: psycopg.Connection[Any], waited: float) -> None:
        """Break a connection the server left unanswered: shut its socket down, so
        that the blocked call fails now and the next call connects afresh."""
        LOG.error(
            "%s: no answer from the server for %.1fs; dropping the connection",
            self.where,
            waited,
            extra={"backend": self.where, "waited_s": round(waited, 1)},
        )
        with socket.socket(fileno=os.dup(connection.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    def _connect_error(self, error: psycopg.Error) -> BackendError:
        message = self._scrub(str(error))
        state = error.sqlstate or ""
        lowered = message.lower()
        if state == "3D000" or ("database" in lowered and "does not exist" in lowered):
            return BackendConfigurationError(f"{self.where}: database does not exist")
        if "role" in lowered and "does not exist" in lowered:
            return BackendConfigurationError(f"{self.where}: no such user")
        if state.startswith("28") or "authentication" in lowered or "password" in lowered:
            return BackendConfigurationError(
                f"{self.where}: authentication failed (check the user and password)"
            )
        reason = _first_line(message)
        return BackendUnavailableError(f"{self.where}: cannot connect ({reason})")

    def _error(self, error: psycopg.Error) -> BackendError:
        state = error.sqlstate or ""
        reason = _first_line(self._scrub(str(error)))
        if state in RETRYABLE_STATES:
            return ConflictError(f"{self.where}: {reason}")
        if isinstance(error, psycopg.OperationalError) and (
            not state or state.startswith("08") or state in UNAVAILABLE_STATES
        ):
            return BackendUnavailableError(f"{self.where}: connection lost ({reason})")
        return BackendError(f"{self.where}: {reason}")

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    # -- schema ----------------------------------------------------------------------

    def _open_schema(self) -> None:
        """Create or migrate the schema; refuse one newer than this code knows."""
        try:
            connection = self._connection()
            schema, version = self._schema_version(connection)
            if version > SCHEMA_VERSION:
                raise BackendConfigurationError(
                    f"{self.where}: database schema version {version} is newer than this "
                    f"pyworkflow understands ({SCHEMA_VERSION}); upgrade pyworkflow"
                )
            if version < SCHEMA_VERSION:
                schema = self._migrate(connection)
            connection.commit()
            self.channel = f"pyworkflow.{schema}"[:63]
            self._purge_key = _lock_key(f"pyworkflow.purge.{schema}")
        except psycopg.Error as error:
            self.close()
            raise self._error(error) from None
        except BaseException:
            self.close()
            raise

    def _schema_version(self, connection: psycopg.Connection[Any]) -> tuple[str, int]:
        row = connection.execute(
            "SELECT current_schema(), to_regclass('pyworkflow_schema') IS NOT NULL"
        ).fetchone()
        assert row is not None
        schema = self.schema or row[0] or "public"
        if not row[1]:
            return schema, 0
        found = connection.execute(self._statements["schema_version"]).fetchone()
        return schema, 0 if found is None else int(found[0])

    def _migrate(self, connection: psycopg.Connection[Any]) -> str:
        """Migrate under a lock, so that two workers starting at once migrate once.

        The lock is a session lock taken in a transaction of its own, and the
        check and migration run in the next one: a transaction that looked for
        the tables before waiting for the lock would not see, once granted, the
        tables that the lock's holder created meanwhile ("already exists")."""
        target = self.schema or "public"
        key = _lock_key(f"pyworkflow.schema.{target}")
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            return self._migrate_locked(connection)
        finally:
            with contextlib.suppress(psycopg.Error):
                connection.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _migrate_locked(self, connection: psycopg.Connection[Any]) -> str:
        try:
            # The migration commits whole or not at all.
            connection.execute(BEGIN)
            if self.schema is not None:
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
            # Another worker may have migrated while this one waited for the lock.
            schema, version = self._schema_version(connection)
            if version > SCHEMA_VERSION:
                raise BackendConfigurationError(
                    f"{self.where}: database schema version {version} is newer than this "
                    f"pyworkflow understands ({SCHEMA_VERSION}); upgrade pyworkflow"
                )
            for number, script in migrations("postgres").items():
                if number > version:
                    connection.execute(script)
            record_schema_version(connection.execute, self._statements, version, SCHEMA_VERSION)
            connection.commit()
        except BaseException:
            _rollback(connection)
            raise
        return schema

    # -- the Store protocol ----------------------------------------------------------

    def run(self, work: Callable[[SQLTransaction], V], durable: bool = True) -> V:
        """``work`` in one transaction, run again from the start (a few times, after a
        short random pause) while PostgreSQL aborts it for a conflict: nothing of an
        aborted try was written, and a fresh one sees what the other committed.

        Not ``durable``: committed with ``synchronous_commit`` off, answered before
        the server has flushed its WAL (about half a millisecond per commit here, on
        the path of every task's hand-over). A crash of the server can then lose it,
        and only it and the like: whatever a later durable commit read of it is flushed
        with that commit."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with _Transaction(self, durable) as tx:
                    return work(tx)
            except ConflictError:
                if attempt == ATTEMPTS:
                    raise
                # Spread the retries of transactions that collided, so they do not again.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def read(self, work: Callable[[SQLTransaction], V]) -> V:
        """A read-only REPEATABLE READ snapshot: it takes no row lock, so a claim
        never skips a run because somebody is watching it.

        It ends with COMMIT, which for a read-only transaction undoes nothing and
        keeps what psycopg prepared: a ROLLBACK makes psycopg drop every prepared
        statement of the connection, so a watcher re-reading a process would have
        each statement parsed and planned again every time."""
        connection = self._connection()
        try:
            snapshot = Pipeline(connection, BEGIN_SNAPSHOT)
            value = work(SQLTransaction(snapshot.send, self._read_statements))
            snapshot.commit()
            return value
        except psycopg.Error as error:
            _rollback(connection)
            raise self._error(error) from None
        except BaseException:
            _rollback(connection)
            raise

    def next_due_at(self) -> datetime | None:
        connection = self._connection()
        try:
            with self._watchdog.guard(connection):
                # One statement, outside any transaction: one round trip.
                row = Pipeline(connection, None).send(self._statements["earliest_due"]).fetchone()
        except psycopg.Error as error:
            raise self._error(error) from None
        return None if row is None else from_micros(row[0])

    def wait_for_change(self, timeout: float, task_list: tuple[str, str] | None = None) -> bool:
        self._ensure_listener()
        key = None if task_list is None else _list_key(*task_list)
        seen = getattr(self._local, "seen", None)
        with self._changed:
            generation = self._watched(key)
            if seen is None or seen.get(key, -1) != generation:
                # News since this thread last looked (or it never did).
                self._remember(key)
                return True
            changed = self._changed.wait_for(
                lambda: self._watched(key) != generation, timeout=timeout
            )
            self._remember(key)
            return changed

    def _watched(self, key: str | None) -> int:
        """How much news there has been for ``key`` (None: for anybody)."""
        if key is None:
            return self._generation
        return self._list_generations.get(key, 0) + self._everybody

    def _remember(self, key: str | None) -> None:
        seen = getattr(self._local, "seen", None)
        if seen is None:
            seen = self._local.seen = {}
        seen[key] = self._watched(key)

    def _saw_everything(self) -> None:
        """This thread is about to look at the database: what was announced so far
        is no news to it, for every list it waits for."""
        seen: dict[str | None, int] | None = getattr(self._local, "seen", None)
        keys = {None, *self._list_generations, *(seen or ())}
        self._local.seen = {key: self._watched(key) for key in keys}

    def notification(self, news: Iterable[str]) -> tuple[str, tuple[str, str]]:
        """The statement that NOTIFYs the task lists given work (and RUNS_CLOSED)."""
        return "SELECT pg_notify(%s, %s)", (self.channel, "\n".join(sorted(news)))

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            listener = self._listener
            if listener is not None and listener.alive and listener.pid == os.getpid():
                return
            if self._closed:
                raise BackendError(f"{self.where}: the store is closed")
            if listener is not None and listener.pid != os.getpid():
                # Forked: the parent's listener and its condition are not ours.
                self._changed = threading.Condition()
            connection = self._connect()
            try:
                connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            except psycopg.Error as error:
                connection.close()
                raise self._error(error) from None
            self._listener = _Listener(connection, self._notified)
        # Commits made before LISTEN took effect were not heard: have waiters look.
        self._notified()

    def _notified(self, payloads: Iterable[str] = (EVERYBODY,)) -> None:
        """Count news, for anybody and for each task list a payload names;
        ``EVERYBODY`` (a listener started or broke: commits may have gone unheard)
        is news for every list."""
        with self._changed:
            self._generation += 1
            for payload in payloads:
                if payload == EVERYBODY:
                    self._everybody += 1
                    continue
                for key in payload.split("\n"):
                    if key:
                        self._list_generations[key] = self._list_generations.get(key, 0) + 1
            self._changed.notify_all()

    @contextlib.contextmanager
    def purge_lock(self) -> Iterator[bool]:
        """A session advisory lock on this thread's connection, tried and never waited
        for; PostgreSQL drops it with the connection if the worker dies holding it."""
        connection = self._connection()
        params = {"key": self._purge_key}
        try:
            row = connection.execute(self._statements["try_purge_lock"], params).fetchone()
        except psycopg.Error as error:
            raise self._error(error) from None
        got = bool(row and row[0])
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(psycopg.Error):
                    connection.execute(self._statements["purge_unlock"], params)

    def vacuum(self) -> bool:
        """Nothing to ask: autovacuum makes deleted rows' space reusable, and a full
        VACUUM, which would hand it back to the file system, locks out every worker."""
        return False

    def close(self) -> None:
        self._closed = True
        self._watchdog.stop()
        self._connections.close()
        with self._listener_lock:
            if self._listener is not None:
                self._listener.stop()
            self._listener = None


class _Listener:
    """A LISTENing connection read by a daemon thread, which reports each notification.

    (``Connection.notifies(timeout=...)``, which lets the thread look up to see
    whether it should stop, is why psycopg 3.2 is the oldest this supports.)"""

    def __init__(
        self, connection: psycopg.Connection[Any], report: Callable[[Iterable[str]], None]
    ) -> None:
        self.pid = os.getpid()
        self._connection = connection
        self._report = report
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pyworkflow-listen", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                # Reported as each arrives: the generator ends only at the timeout.
                for notification in self._connection.notifies(timeout=LISTEN_POLL):
                    self._report((notification.payload,))
        except psycopg.Error:
            # The connection broke: let waiters look, and the next wait start another.
            self._report((EVERYBODY,))
        finally:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()

    def stop(self) -> None:
        """Ask the thread to end; it closes its connection within LISTEN_POLL."""
        self._stopping.set()


class _PostgresTransaction(SQLTransaction):
    """The shared SQL transaction, noting whether it wrote, and locking a run
    before reading one of its activities."""

    def __init__(self, store: PostgresStore, connection: psycopg.Connection[Any]) -> None:
        super().__init__(self._run, store._statements)
        self._connection = connection
        self._answered_writes = store._answered_writes
        # What its notification names: the task lists this transaction gave work
        # to, and RUNS_CLOSED if it closed a run. Nothing: no notification.
        self.news: set[str] = set()
        self._locked: set[str] = set()
        # Runs a statement brought along with their activity, until first read.
        self._came_along: dict[str, ProcessRecord] = {}
        # The moment the sweep last found nothing due at, in microseconds.
        # The server time and earliest deadline read together by now(), if it ran.
        self._earliest: tuple[int, int | None] | None = None
        self.pipeline = Pipeline(connection, BEGIN)
        # Whether it wrote: a commit with nothing to write has nothing to flush.
        self.wrote = False
        self._early_decision_claim = store._early_decision_claim
        # Reads the unit said it would make (expect_*), sent with now()'s round trip,
        # and then their answers (a row, or None), each used once.
        self._expected: list[tuple[tuple[Any, ...], str, dict[str, Any]]] = []
        self._early: dict[tuple[Any, ...], Any] = {}

    def _run(self, query: str, params: Any) -> Any:
        if query.startswith(_WRITES):
            self.wrote = True
            if query not in self._answered_writes:
                self.pipeline.hold(query, params)
                return None
        return self.pipeline.send(query, params)

    def _tell_of_run(self, run: ProcessRecord) -> None:
        if run.decision == DecisionState.SCHEDULED:
            self.news.add(_list_key("decision", run.category))
        if not run.is_open:
            self.news.add(_list_key(*RUNS_CLOSED))

    def _tell_of_activity(self, activity: ActivityRecord) -> None:
        if activity.state == ActivityState.SCHEDULED:
            self.news.add(_list_key("activity", activity.category))

    def insert_process(self, record: ProcessRecord) -> None:
        self._tell_of_run(record)
        super().insert_process(record)

    def insert_activity(self, record: ActivityRecord) -> None:
        self._tell_of_activity(record)
        super().insert_activity(record)

    def update_activity(self, record: ActivityRecord) -> None:
        self._tell_of_activity(record)
        super().update_activity(record)

    def _append_unnumbered(self, run_id: str, body: str) -> int | None:
        """A held write like the rest: the event numbers itself after the run's last
        on the server, so no answer is waited for, and the number stays unknown."""
        self._run(self._sql["insert_event_after_last"], {"run_id": run_id, "body": body})
        return None

    def now(self) -> datetime | None:
        """The server's clock: workers and clients on machines whose clocks differ
        then agree on every deadline and timer. The reads the unit said it would
        make go in the same round trip, instead of one each after it."""
        expected, self._expected = self._expected, []
        statements = [(self._sql["server_time"], None), *((q, p) for _, q, p in expected)]
        answers = self.pipeline.send_each(statements)
        row = answers[0].fetchone()
        assert row is not None
        micros, earliest = row
        self._earliest = (micros, earliest)
        for (key, _, _), answer in zip(expected, answers[1:], strict=True):
            self._early[key] = answer.fetchone()
        return from_micros(micros)

    # A unit's first reads, said before now() (see the Transaction protocol). Each
    # answer is used at most once, and only while the unit has written nothing:
    # a write (the sweep's, of deadlines due) may have changed what it read.

    def expect_run(self, run_id: str) -> None:
        self._expected.append((("run", run_id), self._sql["get_run"], {"run_id": run_id}))

    def expect_activity(self, run_id: str, activity_id: str) -> None:
        params = {"run_id": run_id, "activity_id": activity_id}
        key = ("activity", run_id, activity_id)
        self._expected.append((key, self._sql["lock_run_get_activity"], params))

    def expect_claim(
        self, kind: str, category: str, names: Sequence[str] | None, root_id: str | None
    ) -> None:
        params = {"category": category, "names": name_list(names), "root_id": root_id}
        statement = self._early_decision_claim if kind == "decision" else self._sql["next_activity"]
        self._expected.append((_claim_key(kind, category, names, root_id), statement, params))

    def _early_answer(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        """Whether an early read answers ``key`` still, and its row (None: no row)."""
        if key not in self._early:
            return False, None
        row = self._early.pop(key)
        return not self.wrote, row

    def _lock_run(self, run_id: str) -> None:
        if run_id not in self._locked:
            self._run(self._sql["lock_run"], {"run_id": run_id})
            self._locked.add(run_id)

    def _note(self, runs: Iterable[ProcessRecord | None]) -> None:
        self._locked.update(run.run_id for run in runs if run is not None)

    def get_run(self, run_id: str) -> ProcessRecord | None:
        run = self._came_along.pop(run_id, None)
        if run is None:
            answered, row = self._early_answer(("run", run_id))
            run = self._run_read(row) if answered and row is not None else super().get_run(run_id)
        self._note([run])
        return run

    def update_process(self, record: ProcessRecord) -> None:
        self._came_along.pop(record.run_id, None)
        self._tell_of_run(record)
        super().update_process(record)

    def _claimed_activity(self, row: Sequence[Any] | None) -> ActivityRecord | None:
        return self._activity_and_run(row)

    def _activity_and_run(self, row: Sequence[Any] | None) -> ActivityRecord | None:
        """An activity, from a row that brought its run, locked, along: kept for the
        engine's next read of that run, which then costs no round trip."""
        if row is None:
            return None
        activity = self._activity_read(row[:_ACTIVITY_WIDTH])
        run = self._run_read(row[_ACTIVITY_WIDTH:])
        assert activity is not None and run is not None
        self._came_along[activity.run_id] = run
        self._locked.add(activity.run_id)
        return activity

    def get_open_run(self, process_id: str) -> ProcessRecord | None:
        # If the statement waited for a transaction that closed the run and opened
        # its successor (continue as new), only a later statement sees the
        # successor: it goes twice in one round trip, the second read when the
        # first found none.
        statement = (self._sql["get_open_run"], {"process_id": process_id})
        first, second = self.pipeline.send_each([statement, statement])
        run = self._run_read(first.fetchone() or second.fetchone())
        self._note([run])
        return run

    def get_activity(self, run_id: str, activity_id: str) -> ActivityRecord | None:
        answered, row = self._early_answer(("activity", run_id, activity_id))
        if answered and row is not None:
            return self._activity_and_run(row)
        if run_id not in self._locked:
            # The usual case (a heartbeat, a result) in one round trip: run and
            # activity locked together.
            params = {"run_id": run_id, "activity_id": activity_id}
            activity = self._activity_and_run(
                self._run(self._sql["lock_run_get_activity"], params).fetchone()
            )
            if activity is not None:
                return activity
            # No such activity: the run alone is locked, and the activity looked up
            # again, in case a transaction this waited for wrote it.
        self._lock_run(run_id)
        return super().get_activity(run_id, activity_id)

    def _earliest_deadline(self, micros: int) -> int | None:
        """Read with the server's time at the start of the call, when it was."""
        if self._earliest is not None and self._earliest[0] == micros:
            return self._earliest[1]
        return super()._earliest_deadline(micros)

    def next_decision(
        self,
        category: str,
        now: datetime,
        workflows: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ProcessRecord | None:
        # Found nothing early: nothing was there to claim when this unit began.
        answered, row = self._early_answer(_claim_key("decision", category, workflows, root_id))
        if answered:
            return self._run_read(row)
        return super().next_decision(category, now, workflows, root_id)

    def next_activity(
        self,
        category: str,
        activities: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ActivityRecord | None:
        answered, row = self._early_answer(_claim_key("activity", category, activities, root_id))
        if answered:
            activity = self._claimed_activity(row)
        else:
            activity = super().next_activity(category, activities, root_id)
        if activity is not None:
            self._locked.add(activity.run_id)
        return activity


class _Transaction:
    """One transaction on the thread's connection: a body that ends normally
    commits, one that raises rolls everything back."""

    __slots__ = ("_store", "_durable", "_connection", "_tx", "_guard")

    def __init__(self, store: PostgresStore, durable: bool = True) -> None:
        self._store = store
        self._durable = durable
        self._connection = store._connection()
        self._tx: _PostgresTransaction | None = None
        self._guard = store._watchdog.guard(self._connection)

    def __enter__(self) -> _PostgresTransaction:
        self._guard.__enter__()
        store = self._store
        # What this thread has seen: a later notification means news for wait_for_change.
        store._saw_everything()
        self._tx = _PostgresTransaction(store, self._connection)
        return self._tx

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._end(kind, error)
        finally:
            self._guard.__exit__(None, None, None)

    def _end(self, kind: type[BaseException] | None, error: BaseException | None) -> None:
        connection = self._connection
        if kind is None:
            try:
                assert self._tx is not None
                # The held writes, the notification and COMMIT in one round trip;
                # the notification is sent as the commit succeeds, never for a
                # transaction that failed. A claim or a heartbeat gives nobody
                # news, and wakes nobody.
                finals: list[tuple[str, Any]] = []
                if self._tx.news:
                    finals.append(self._store.notification(self._tx.news))
                if not self._durable and self._tx.wrote:
                    finals.append((NOT_FLUSHED, None))
                self._tx.pipeline.commit(*finals)
            except psycopg.Error as failure:
                _rollback(connection)
                raise self._store._error(failure) from None
            return
        _rollback(connection)
        if isinstance(error, psycopg.Error):
            raise self._store._error(error) from None


def _claim_key(
    kind: str, category: str, names: Sequence[str] | None, root_id: str | None
) -> tuple[Any, ...]:
    """What an early claim read is kept under: the claim it stands for."""
    return ("claim", kind, category, name_list(names), root_id)


def _rollback(connection: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.Error):
        connection.rollback()


def _describe(params: dict[str, Any]) -> str:
    """Where the database is, for messages: never the password."""
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    user = params.get("user") or os.environ.get("PGUSER") or ""
    database = params.get("dbname") or os.environ.get("PGDATABASE") or user or "postgres"
    who = f"{user}@" if user else ""
    return f"postgresql://{who}{host}:{port}/{database}"


def _list_key(kind: str, category: str) -> str:
    """A task list as a notification's payload names it."""
    return f"{kind}:{category}"


def _lock_key(name: str) -> int:
    """An advisory lock's 64-bit key, the same in every worker for one ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


class PostgresBackend(Engine):
    """Processes kept in a PostgreSQL database shared by workers on many machines.

    ``schema`` keeps pyworkflow's tables in their own PostgreSQL schema (created
    if missing) instead of the connection's default one.
    """

    def __init__(
        self,
        dsn: str,
        clock: Clock | None = None,
        schema: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
        keepalives_idle: float = DEFAULT_KEEPALIVES_IDLE,
        retention: timedelta | str | None = None,
    ) -> None:
        store = PostgresStore(
            dsn,
            schema=schema,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            keepalives_idle=keepalives_idle,
        )
        super().__init__(store, clock=clock, retention=retention)
        self.where = store.where
        self.schema = schema

    def __repr__(self) -> str:
        schema = f", schema={self.schema!r}" if self.schema else ""
        return f"PostgresBackend({self.where!r}{schema})"


__all__ = ["PostgresBackend", "PostgresStore", "ConflictError", "SCHEMA_VERSION"]
