"""The SQLite store: durable, embedded, shared by many worker processes on one machine.

Settings, and why:

- ``journal_mode=WAL``: readers never block the writer and the writer never
  blocks readers, so idle workers watching for work cost writers nothing.
- ``synchronous=NORMAL``: in WAL mode a commit is written to the WAL file
  before the call returns, and fsynced at checkpoints. That is durable against
  a crashed or SIGKILLed process (the OS still holds the written pages); only a
  power loss or kernel crash can take the last commits with it, never corrupt
  the file. FULL would fsync every commit and cost about five times as much
  per transaction; pass ``synchronous="FULL"`` where power loss matters.
- ``busy_timeout``: a writer waits this long for another's short transaction
  to end before giving up with :class:`BackendBusyError`.

Every engine call is one ``BEGIN IMMEDIATE`` transaction: it takes the write
lock at once, so two workers can never both read a task as free and both claim
it, and no transaction has to upgrade a read lock (which could fail midway).

Each thread uses its own connection (worker threads run concurrently), and idle
workers watch ``PRAGMA data_version`` on one more, dedicated connection: it
changes whenever any other connection, in any process, commits.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType

from ..clock import Clock, utcnow
from ..exceptions import (
    BackendBusyError,
    BackendConfigurationError,
    BackendError,
    PyworkflowError,
)
from .engine_backend import EngineBackend
from .sql import migrations, queries, record_schema_version
from .sql.connections import ThreadConnections
from .sql.rows import from_micros
from .sql.transaction import SQLTransaction

SCHEMA_VERSION = 2
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT = 10.0
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# Beside the database, as SQLite keeps its -wal and -shm files: the purgers' lock.
PURGE_LOCK_SUFFIX = "-purge.lock"

# wait_for_change polls data_version every WATCH_MIN_INTERVAL while the database
# is busy, and less often the longer it has been quiet: a twentieth of the quiet
# time, up to WATCH_MAX_INTERVAL. The query costs microseconds; what idle CPU
# there is goes to waking up, so a worker quiet for a while wakes 50 times a
# second, and one in the middle of a workflow reacts within a millisecond.
WATCH_MIN_INTERVAL = 0.0005
WATCH_MAX_INTERVAL = 0.02
WATCH_QUIET_FRACTION = 0.05


class SQLiteStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
    ) -> None:
        self.path = os.fspath(path)
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise BackendConfigurationError(
                f"{self.path}: synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}"
            )
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self._statements = queries()
        self._local = threading.local()
        self._connections = ThreadConnections(
            self._connect, lambda: BackendError(f"{self.path}: the store is closed")
        )
        self._watcher: sqlite3.Connection | None = None
        self._watcher_pid = 0
        # When this store last saw the database change, by its own hand or another's.
        self._last_change = time.monotonic()
        self._watcher_lock = threading.Lock()
        self._purging = threading.Lock()
        self._closed = False
        _check_path(Path(self.path))
        self._open_schema()

    # -- connections ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            # check_same_thread is off only so that close() and a thread's end may close
            # a connection; each is otherwise used only by the thread that opened it.
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            # After a burst, let checkpoints shrink the WAL file back instead of keeping it.
            connection.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        except sqlite3.Error as error:
            raise self._error(error) from None
        return connection

    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def _open_schema(self) -> None:
        """Check the file, then create or migrate the schema; write nothing to a bad file."""
        connection = self._connection()
        try:
            version = _schema_version(connection)
            if version > SCHEMA_VERSION:
                raise BackendConfigurationError(
                    f"{self.path}: database schema version {version} is newer than this "
                    f"pyworkflow understands ({SCHEMA_VERSION}); upgrade pyworkflow"
                )
            mode = self._switch_to_wal(connection)
            if str(mode).lower() != "wal":
                raise BackendConfigurationError(
                    f"{self.path}: cannot use write-ahead logging (journal mode stays {mode})"
                )
            if version < SCHEMA_VERSION:
                self._migrate(connection)
        except sqlite3.Error as error:
            self.close()
            raise self._error(error) from None
        except BaseException:
            self.close()
            raise

    def _switch_to_wal(self, connection: sqlite3.Connection) -> str:
        """Set WAL mode, retrying while another connection holds the file: SQLite
        answers a journal-mode change with "locked" at once, without waiting for the
        busy timeout, when several processes open a new file together."""
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.001
        while True:
            try:
                return str(connection.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(0.05, pause * 2)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the lock.
            version = _schema_version(connection)
            for number, script in migrations("sqlite").items():
                if number > version:
                    for statement in _split_script(script):
                        connection.execute(statement)
            record_schema_version(connection.execute, self._statements, version, SCHEMA_VERSION)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _error(self, error: sqlite3.Error) -> BackendError:
        message = str(error)
        if "locked" in message or "busy" in message:
            return BackendBusyError(
                f"{self.path}: database stayed locked for over {self.busy_timeout:g}s ({message})"
            )
        if "not a database" in message:
            return BackendConfigurationError(f"{self.path}: not a SQLite database")
        if "readonly" in message or "read-only" in message:
            return BackendConfigurationError(
                f"{self.path}: database is read-only, and a worker needs to write ({message})"
            )
        if "unable to open" in message:
            return BackendConfigurationError(f"{self.path}: cannot open database ({message})")
        return BackendError(f"{self.path}: {message}")

    # -- the Store protocol ------------------------------------------------------------

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def next_due_at(self) -> datetime | None:
        connection = self._connection()
        sql = self._statements
        try:
            moments = [
                connection.execute(sql[name]).fetchone()[0]
                for name in (
                    "earliest_run_due",
                    "earliest_activity_due",
                    "earliest_timer_due",
                    "earliest_delayed_decision",
                )
            ]
        except sqlite3.Error as error:
            raise self._error(error) from None
        present = [moment for moment in moments if moment is not None]
        return from_micros(min(present)) if present else None

    def wait_for_change(self, timeout: float) -> bool:
        """True once the database changed since this thread last looked, so a commit
        that landed between a worker's poll and this call still wakes it."""
        now = time.monotonic()
        deadline = now + timeout
        current = self._data_version()
        seen = getattr(self._local, "seen_version", current)
        while current == seen:
            remaining = deadline - now
            if remaining <= 0:
                return False
            quiet = (now - self._last_change) * WATCH_QUIET_FRACTION
            interval = min(WATCH_MAX_INTERVAL, max(WATCH_MIN_INTERVAL, quiet))
            time.sleep(min(interval, remaining))
            now = time.monotonic()
            current = self._data_version()
        self._local.seen_version = current
        self._last_change = now
        return True

    def _data_version(self) -> int:
        with self._watcher_lock:
            if self._watcher is None or self._watcher_pid != os.getpid():
                if self._closed:
                    raise BackendError(f"{self.path}: the store is closed")
                self._watcher = self._connect()
                self._watcher_pid = os.getpid()
            try:
                return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as error:
                raise self._error(error) from None

    @contextlib.contextmanager
    def purge_lock(self) -> Iterator[bool]:
        """An exclusive ``flock`` on a file beside the database, never waited for: the
        purge's own batches are short write transactions, and one purger at a time
        keeps them from queueing behind each other and ahead of the workers."""
        if not self._purging.acquire(blocking=False):
            yield False
            return
        try:
            with open(self.path + PURGE_LOCK_SUFFIX, "a") as file:
                try:
                    fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(file.fileno(), fcntl.LOCK_UN)
        finally:
            self._purging.release()

    def vacuum(self) -> bool:
        """Rewrite the file without its free pages, then empty the WAL. Without this a
        purge's pages are reused by new rows, so the file stops growing but does not
        shrink; VACUUM holds the write lock while it copies the whole database."""
        connection = self._connection()
        try:
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            raise self._error(error) from None
        return True

    def close(self) -> None:
        self._closed = True
        self._connections.close()
        with self._watcher_lock:
            if self._watcher is not None and self._watcher_pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._watcher.close()
            self._watcher = None


class _Transaction:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT``.

    A body that ends normally commits. A body that raises a PyworkflowError has
    refused its caller (a late completion, a closed process) after deciding from
    what it read, and what it wrote on the way, such as deadlines found expired,
    stays written: exactly as in the memory store, which has no rollback. Any
    other exception is a failure, and rolls everything back.
    """

    __slots__ = ("_store", "_connection", "_changes")

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._connection = store._connection()
        self._changes = 0

    def __enter__(self) -> SQLTransaction:
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            self._changes = self._connection.total_changes
        except sqlite3.Error as error:
            raise self._store._error(error) from None
        return SQLTransaction(self._connection.execute, self._store._statements)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        refused = isinstance(error, PyworkflowError) and not isinstance(error, BackendError)
        if kind is None or refused:
            self._commit()
            return
        _rollback(self._connection)
        if isinstance(error, sqlite3.Error):
            raise self._store._error(error) from None

    def _commit(self) -> None:
        connection = self._connection
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as failure:
            _rollback(connection)
            raise self._store._error(failure) from None
        if connection.total_changes != self._changes:
            self._store._last_change = time.monotonic()


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")


def _check_path(path: Path) -> None:
    """Refuse, before SQLite creates or touches anything, what cannot work."""
    if str(path) in ("", ":memory:"):
        # Every thread's connection would open a database of its own.
        raise BackendConfigurationError(
            f"{str(path)!r}: SQLiteBackend needs a file; use MemoryBackend for an in-memory one"
        )
    directory = path.parent
    if not directory.is_dir():
        raise BackendConfigurationError(f"{path}: directory {directory} does not exist")
    if path.is_dir():
        raise BackendConfigurationError(f"{path}: is a directory, not a database file")
    if path.exists():
        try:
            with path.open("rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as error:
            raise BackendConfigurationError(f"{path}: cannot read ({error.strerror})") from None
        if header and header != SQLITE_HEADER:
            raise BackendConfigurationError(f"{path}: not a SQLite database")
        # No write bit counts as read-only even for root, whom os.access lets write.
        if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
            raise BackendConfigurationError(
                f"{path}: database file is read-only, and a worker needs to write"
            )
    if not os.access(directory, os.W_OK):
        raise BackendConfigurationError(
            f"{path}: directory {directory} is not writable (SQLite keeps its WAL beside the file)"
        )


def _schema_version(connection: sqlite3.Connection) -> int:
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'pyworkflow_schema'"
    ).fetchone()
    if exists is None:
        return 0
    row = connection.execute(queries()["schema_version"]).fetchone()
    return 0 if row is None else int(row[0])


def _split_script(script: str) -> list[str]:
    """Statements of a migration script: executed one by one inside our transaction,
    since ``executescript`` would commit first."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


class SQLiteBackend(EngineBackend):
    """Processes kept in a SQLite file that several worker processes may share.

    ``create=False`` opens only a database that exists: a command that reads or
    steers existing processes must not leave an empty database behind when
    pointed at the wrong path, and should say so rather than "no such process".
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        clock: Clock = utcnow,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
        create: bool = True,
        retention: timedelta | str | None = None,
    ) -> None:
        if not create and not Path(path).exists():
            raise BackendConfigurationError(
                f"database {os.fspath(path)} does not exist; start a worker or a process first"
            )
        super().__init__(
            SQLiteStore(path, busy_timeout, synchronous), clock=clock, retention=retention
        )
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r})"


__all__ = ["SQLiteBackend", "SQLiteStore", "SCHEMA_VERSION"]
