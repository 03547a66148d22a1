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
- ``journal_size_limit`` (``wal_size_limit``, 64 MiB): the WAL is cut back to this
  after a checkpoint. A read transaction left open (a shell, a backup, a report)
  keeps every checkpoint from reaching the WAL's end, so the WAL grows for as
  long as the reader lives, and SQLite's own checkpoints do not shrink it once the
  reader is gone. So a store that sees the WAL past the limit (it looks at most
  once a second) checkpoints it itself, truncating it as soon as nothing holds
  it, and warns, naming the likely cause, while a reader does.

Every engine call that writes is one ``BEGIN IMMEDIATE`` transaction: it takes
the write lock at once, so two workers can never both read a task as free and
both claim it, and no transaction has to upgrade a read lock (which could fail
midway). Since that lock is the whole database's (``exclusive_writes``), a poll
first looks in a read, which takes no lock, and begins one only when it found a
task or a deadline due: an idle worker woken by a commit never holds up the
worker that has the task.

Each thread uses its own connection (worker threads run concurrently), and idle
workers watch ``PRAGMA data_version`` on one more, dedicated connection: it
changes whenever any other connection, in any process, commits. Between two
looks a worker sleeps on an inotify watch of the ``-wal`` file (on Linux), which
every commit writes, so it wakes as soon as another process commits.

A store opened with ``readonly=True`` (the command's list, show, history and
wait, the web UI) never writes, never creates a file and never applies a
deadline; it reads a database the user cannot write, in a directory the user
cannot write, or on read-only media. SQLite reads a WAL-mode database without
write access only through a ``-shm`` and ``-wal`` that exist or can be made, or
when told the file is immutable (https://www.sqlite.org/wal.html, "Read-Only
Databases"). So a reader of a file it could write opens it as any reader of a
live database does (``PRAGMA query_only`` refusing writes), and its ``-wal`` and
``-shm`` go again when the last connection closes; a reader of a file it cannot
write opens ``mode=ro`` while a ``-wal`` exists (a writer may be at work, or its
last commits sit in the WAL: they must be read), and otherwise ``immutable=1``:
the file is one nobody writes now (an archived copy, a read-only mount), and
that creates nothing. Where the ``-wal`` and ``-shm`` cannot be made (a
read-only directory) and there is no WAL to miss, it falls back to that too.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from ..clock import Clock
from ..engine import Engine
from ..exceptions import (
    BackendBusyError,
    BackendConfigurationError,
    BackendError,
    BackendUnavailableError,
)
from ._file_watch import FileWatch
from ._sql import migrations, queries, record_schema_version
from ._sql.connections import ThreadConnections
from ._sql.rows import from_micros
from ._sql.transaction import SQLTransaction
from .base import RUNS_CLOSED

SCHEMA_VERSION = 3
V = TypeVar("V")
SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT = 10.0
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# How often a store looks at the WAL's size, and warns of a reader holding it.
WAL_CHECK_INTERVAL = 1.0
WAL_WARNING_INTERVAL = 60.0
# How long truncating the WAL may wait for short readers to move off it.
WAL_TRUNCATE_WAIT_MS = 100
LOG = logging.getLogger("pyworkflow.backend.sqlite")
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
    exclusive_writes = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
        wal_size_limit: int = WAL_SIZE_LIMIT,
        readonly: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self.readonly = readonly
        self.wal_size_limit = int(wal_size_limit)
        if self.wal_size_limit <= 0:
            raise BackendConfigurationError(f"{self.path}: wal_size_limit must be positive")
        self._wal_path = self.path + "-wal"
        self._wal_next_check = 0.0
        self._wal_next_warning = 0.0
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise BackendConfigurationError(
                f"{self.path}: synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}"
            )
        self.synchronous = synchronous.upper()
        self.busy_timeout = busy_timeout
        self._statements = queries(dialect="sqlite")
        self._local = threading.local()
        self._connections = ThreadConnections(
            self._connect, lambda: BackendError(f"{self.path}: the store is closed")
        )
        # Each waiting thread's watch on the WAL file, closed with the store.
        self._wal_watches = ThreadConnections(
            lambda: FileWatch(self._wal_path),
            lambda: BackendError(f"{self.path}: the store is closed"),
        )
        self._watcher: sqlite3.Connection | None = None
        self._watcher_pid = 0
        # When this store last saw the database change, by its own hand or another's.
        self._last_change = time.monotonic()
        self._watcher_lock = threading.Lock()
        self._purging = threading.Lock()
        self._closed = False
        if readonly:
            _check_readable(Path(self.path))
            self._uri = _read_only_uri(Path(self.path))
            self._check_schema_readable()
        else:
            _check_path(Path(self.path))
            self._open_schema()

    # -- connections ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            return self._connect_read_only()
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
            connection.execute(f"PRAGMA journal_size_limit = {self.wal_size_limit}")
        except sqlite3.Error as error:
            raise self._error(error) from None
        return connection

    def _connect_read_only(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self._uri,
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            # Refuses any write, even one SQLite would allow on an immutable file.
            connection.execute("PRAGMA query_only = 1")
        except sqlite3.Error as error:
            raise self._error(error) from None
        return connection

    def _connection(self) -> sqlite3.Connection:
        return self._connections.get()

    def _check_schema_readable(self) -> None:
        """The schema this pyworkflow reads, or a one-line error; a reader cannot
        migrate, so an older schema is reported rather than read wrongly."""
        try:
            try:
                version = _schema_version(self._connection())
            except sqlite3.OperationalError as error:
                # The -wal and -shm cannot be made (a read-only directory): with no
                # WAL to miss, the file is read as immutable.
                if "unable to open" not in str(error) or os.path.exists(self._wal_path):
                    raise
                self._connections.close()
                self._connections = ThreadConnections(
                    self._connect, lambda: BackendError(f"{self.path}: the store is closed")
                )
                self._uri = _uri(Path(self.path), "immutable")
                version = _schema_version(self._connection())
        except sqlite3.Error as error:
            self.close()
            if "unable to open" in str(error):
                raise BackendConfigurationError(
                    f"{self.path}: cannot read: its WAL needs a {self.path}-shm file, which "
                    "is missing and cannot be made here"
                ) from None
            raise self._error(error) from None
        problem = None
        if version == 0:
            problem = "holds no pyworkflow processes (no schema); a worker creates it"
        elif version > SCHEMA_VERSION:
            problem = (
                f"database schema version {version} is newer than this pyworkflow "
                f"understands ({SCHEMA_VERSION}); upgrade pyworkflow"
            )
        elif version < SCHEMA_VERSION:
            problem = (
                f"database schema version {version} is older than this pyworkflow's "
                f"({SCHEMA_VERSION}); a worker or any command that writes upgrades it"
            )
        if problem is not None:
            self.close()
            raise BackendConfigurationError(f"{self.path}: {problem}")

    def _refuse_write(self) -> BackendConfigurationError:
        return BackendConfigurationError(
            f"{self.path}: opened read-only; changing a process needs it opened for writing"
        )

    def _tend_wal(self) -> None:
        """Checkpoint and truncate a WAL grown past its limit; warn while a reader
        keeps it from being checkpointed. Cheap when the WAL is small: one stat a
        second at most."""
        now = time.monotonic()
        if now < self._wal_next_check or self.readonly:
            return
        self._wal_next_check = now + WAL_CHECK_INTERVAL
        try:
            size = os.stat(self._wal_path).st_size
        except OSError:
            return
        if size <= self.wal_size_limit:
            return
        connection = self._connection()
        if connection.in_transaction:
            return
        try:
            # A passive checkpoint never waits: it copies what no reader still needs.
            _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames >= 0 and copied >= frames:
                connection.execute(f"PRAGMA busy_timeout = {WAL_TRUNCATE_WAIT_MS}")
                try:
                    busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                finally:
                    connection.execute(f"PRAGMA busy_timeout = {round(self.busy_timeout * 1000)}")
                if not busy:
                    LOG.info(
                        "%s: WAL truncated after growing to %d MB",
                        self.path,
                        size // 2**20,
                        extra={"database": self.path, "wal_bytes": size},
                    )
                    return
        except sqlite3.Error as error:
            LOG.warning(
                "%s: cannot checkpoint the WAL: %s",
                self.path,
                error,
                extra={"database": self.path, "error": str(error)},
            )
            return
        if now >= self._wal_next_warning:
            self._wal_next_warning = now + WAL_WARNING_INTERVAL
            LOG.warning(
                "%s: WAL is %d MB, past its %d MB limit, and cannot be checkpointed: a "
                "long-lived read transaction holds it (a shell, a backup, a report left "
                "open?); it is truncated once that reader ends",
                self.path,
                size // 2**20,
                self.wal_size_limit // 2**20,
                extra={"database": self.path, "wal_bytes": size},
            )

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
        if "full" in message:
            # Space may come back (a log rotated, a file removed): a later try may work.
            return BackendUnavailableError(f"{self.path}: disk is full ({message})")
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

    def run(self, work: Callable[[SQLTransaction], V], durable: bool = True) -> V:
        """Every commit is as durable as ``synchronous`` makes it: in WAL mode a
        commit costs no flush of its own below FULL, so a claim has nothing to save."""
        if self.readonly:
            raise self._refuse_write()
        with _Transaction(self) as tx:
            return work(tx)

    def read(self, work: Callable[[SQLTransaction], V]) -> V:
        """A deferred transaction: in WAL mode a snapshot that waits for no writer,
        so listing and showing work while a worker holds the write lock."""
        connection = self._connection()
        try:
            connection.execute("BEGIN")
            return work(SQLTransaction(connection.execute, self._statements))
        except sqlite3.Error as error:
            raise self._error(error) from None
        finally:
            _rollback(connection)

    def next_due_at(self) -> datetime | None:
        """None on a read-only store: it applies no deadline, so none is due for it
        (and a read costs no query for it)."""
        if self.readonly:
            return None
        connection = self._connection()
        try:
            moment = connection.execute(self._statements["earliest_due"]).fetchone()[0]
        except sqlite3.Error as error:
            raise self._error(error) from None
        return None if moment is None else from_micros(moment)

    def wait_for_change(self, timeout: float, task_list: tuple[str, str] | None = None) -> bool:
        """True once the database changed since this thread last looked, so a commit
        that landed between a worker's poll and this call still wakes it; with
        ``RUNS_CLOSED``, once a run closed."""
        if task_list == RUNS_CLOSED:
            return self._wait_for_closing(timeout)
        return self._wait_for_any_change(timeout)

    def _wait_for_closing(self, timeout: float) -> bool:
        """Any commit wakes this, and one indexed look at the latest closing moment
        tells whether it closed a run. Two closings in one microsecond, or a clock
        set back, go unseen here: the watcher's own re-read, at least every half
        second, still finds them."""
        deadline = time.monotonic() + timeout
        # The version is read before the closing: a commit between the two wakes the
        # wait below instead of slipping past it.
        version = self._data_version_tended()
        latest = self._latest_closing()
        seen = getattr(self._local, "seen_closing", latest)
        while latest == seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._wait_for_any_change(remaining, since=version):
                self._local.seen_closing = latest
                return False
            version = self._local.seen_version
            latest = self._latest_closing()
        self._local.seen_closing = latest
        return True

    def _latest_closing(self) -> int | None:
        try:
            return self._connection().execute(self._statements["latest_closing"]).fetchone()[0]
        except sqlite3.Error as error:
            raise self._error(error) from None

    def _wait_for_any_change(self, timeout: float, since: int | None = None) -> bool:
        now = time.monotonic()
        deadline = now + timeout
        current = self._data_version_tended()
        seen = getattr(self._local, "seen_version", current) if since is None else since
        while current == seen:
            remaining = deadline - now
            if remaining <= 0:
                return False
            quiet = (now - self._last_change) * WATCH_QUIET_FRACTION
            interval = min(WATCH_MAX_INTERVAL, max(WATCH_MIN_INTERVAL, quiet))
            # Another process's commit writes the WAL: the watch wakes this at once.
            self._wal_watches.get().wait(min(interval, remaining))
            now = time.monotonic()
            current = self._data_version()
        self._local.seen_version = current
        self._last_change = now
        return True

    def _data_version_tended(self) -> int:
        # An idle worker is who notices that a reader let go of a grown WAL.
        self._tend_wal()
        return self._data_version()

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
        if self.readonly or not self._purging.acquire(blocking=False):
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
        if self.readonly:
            raise self._refuse_write()
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
        self._wal_watches.close()
        with self._watcher_lock:
            if self._watcher is not None and self._watcher_pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    self._watcher.close()
            self._watcher = None


class _Transaction:
    """One ``BEGIN IMMEDIATE`` ... ``COMMIT``: a body that ends normally commits, one
    that raises rolls everything back."""

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
        if kind is None:
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
            self._store._tend_wal()


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
        _check_header(path)
        # No write bit counts as read-only even for root, whom os.access lets write.
        if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
            raise BackendConfigurationError(
                f"{path}: database file is read-only, and a worker needs to write"
            )
    if not os.access(directory, os.W_OK):
        raise BackendConfigurationError(
            f"{path}: directory {directory} is not writable (SQLite keeps its WAL beside the file)"
        )


def _check_readable(path: Path) -> None:
    """What a reader needs: a file that exists (it never creates one) and is a database."""
    if str(path) in ("", ":memory:"):
        raise BackendConfigurationError(
            f"{str(path)!r}: SQLiteBackend needs a file; use MemoryBackend for an in-memory one"
        )
    if path.is_dir():
        raise BackendConfigurationError(f"{path}: is a directory, not a database file")
    if not path.exists():
        raise BackendConfigurationError(
            f"database {path} does not exist; start a worker or a process first"
        )
    _check_header(path)


def _check_header(path: Path) -> None:
    """An empty file is fine (SQLite makes it a database); anything else must be one."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackendConfigurationError(f"{path}: cannot read ({error.strerror})") from None
    if header and header != SQLITE_HEADER:
        raise BackendConfigurationError(f"{path}: not a SQLite database")


def _read_only_uri(path: Path) -> str:
    """How a reader opens ``path`` (see the module's docstring): a writable file as
    any reader of a live database does, so that its ``-wal`` and ``-shm`` go again
    when the last connection closes; one it cannot write ``mode=ro`` while a
    ``-wal`` is there, else ``immutable=1``."""
    if os.access(path, os.W_OK) and path.stat().st_mode & 0o222:
        return _uri(path, "")
    return _uri(path, "ro" if Path(f"{path}-wal").exists() else "immutable")


def _uri(path: Path, how: str) -> str:
    location = urllib.parse.quote(str(path.absolute()))
    query = {"": "", "ro": "?mode=ro", "immutable": "?mode=ro&immutable=1"}[how]
    return f"file:{location}{query}"


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


class SQLiteBackend(Engine):
    """Processes kept in a SQLite file that several worker processes may share.

    ``create=False`` opens only a database that exists: a command that reads or
    steers existing processes must not leave an empty database behind when
    pointed at the wrong path, and should say so rather than "no such process".

    ``readonly=True`` opens an existing database for reading only (see
    :mod:`pyworkflow.backend.sqlite`): on read-only media, or without write
    access; it writes nothing, creates nothing, applies no deadline, and any
    call that would change a process fails with :class:`BackendConfigurationError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        clock: Clock | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        synchronous: str = "NORMAL",
        create: bool = True,
        wal_size_limit: int = WAL_SIZE_LIMIT,
        retention: timedelta | str | None = None,
        readonly: bool = False,
    ) -> None:
        if not (create and not readonly) and not Path(path).exists():
            raise BackendConfigurationError(
                f"database {os.fspath(path)} does not exist; start a worker or a process first"
            )
        super().__init__(
            SQLiteStore(path, busy_timeout, synchronous, wal_size_limit, readonly=readonly),
            clock=clock,
            retention=retention,
        )
        self.path = os.fspath(path)

    def __repr__(self) -> str:
        return f"SQLiteBackend({self.path!r})"


__all__ = ["SQLiteBackend", "SQLiteStore", "SCHEMA_VERSION"]
