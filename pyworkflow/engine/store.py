"""The storage contract: what memory, SQLite and PostgreSQL each implement.

A store keeps rows, finds them by index, and owns the unit of work: ``run``
begins a transaction, commits it, rolls it back on an exception, and tries it
again where the database aborted it for a conflict. It never decides what an
event means: all of that lives in :mod:`pyworkflow.engine._core`, written once.
The order in which claims hand out tasks is part of this contract (see
``next_decision`` and ``next_activity``), held by the store suite in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar

from ..events import Event
from ..observe import PublishedEvent
from .records import ActivityRecord, ProcessRecord, TimerRecord

V = TypeVar("V")


class Transaction(Protocol):
    """One atomic unit of work. Records handed out are copies: change them, then
    write them back with ``update_*``."""

    #: The events appended so far, in order: what is published once this commits.
    appended: list[PublishedEvent]

    def now(self) -> datetime | None:
        """The database's own time, for a store shared by machines whose clocks may
        differ; None where the caller's clock serves (one machine)."""
        ...

    # What the unit will read first, said before ``now()``: a store that waits for
    # each answer from a server (PostgreSQL) sends these reads along with now()'s,
    # in one round trip, and answers the calls that follow from them while the
    # unit has written nothing since; the others do nothing.
    def expect_run(self, run_id: str) -> None:
        """``get_run(run_id)`` comes."""
        ...

    def expect_activity(self, run_id: str, activity_id: str) -> None:
        """``get_activity(run_id, activity_id)`` comes."""
        ...

    def expect_claim(
        self, kind: str, category: str, names: Sequence[str] | None, root_id: str | None
    ) -> None:
        """``next_decision`` (``kind`` "decision", at the store's time) or
        ``next_activity`` with these arguments comes."""
        ...

    # processes
    def insert_process(self, record: ProcessRecord) -> None: ...
    def update_process(self, record: ProcessRecord) -> None: ...
    def get_run(self, run_id: str) -> ProcessRecord | None: ...
    def get_open_run(self, process_id: str) -> ProcessRecord | None: ...
    def get_latest_run(self, process_id: str) -> ProcessRecord | None: ...
    def list_runs(
        self, workflow: str | None, tag: str | None, statuses: Sequence[str]
    ) -> list[ProcessRecord]: ...
    def open_children(self, parent_run: str) -> list[ProcessRecord]: ...
    def process_runs(self, process_id: str) -> list[ProcessRecord]: ...

    # history
    def append_events(self, run: ProcessRecord, events: Iterable[Event]) -> None: ...
    def history(self, run_id: str, after: int = 0) -> list[Event]:
        """The run's events in order, leaving out the first ``after``."""
        ...

    # activities
    def insert_activity(self, record: ActivityRecord) -> None: ...
    def update_activity(self, record: ActivityRecord) -> None: ...
    def delete_activity(self, run_id: str, activity_id: str) -> None: ...
    def get_activity(self, run_id: str, activity_id: str) -> ActivityRecord | None: ...
    def delete_activities_of(self, run_id: str) -> None: ...

    # timers
    def insert_timer(self, record: TimerRecord) -> None: ...
    def delete_timer(self, run_id: str, timer_id: str) -> bool: ...
    def has_timer(self, run_id: str, timer_id: str) -> bool: ...
    def delete_timers_of(self, run_id: str) -> None: ...

    # claiming and due work: each answered by an index, never by a scan
    # ``workflows`` / ``activities``: only tasks of these names (None: any), so a
    # worker never takes a task it has no code for.
    def next_decision(
        self,
        category: str,
        now: datetime,
        workflows: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ProcessRecord | None:
        """The scheduled decision of ``category`` whose ``decision_ready_at`` is at or
        before ``now``: the one ready earliest, and of those the run started first.
        With ``root_id``, only a run of that process's tree."""
        ...

    def next_activity(
        self,
        category: str,
        activities: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ActivityRecord | None:
        """The scheduled activity of ``category`` that was scheduled first (with
        ``root_id``, of that process's tree)."""
        ...

    def decision_claimed_with(self, token: str) -> ProcessRecord | None:
        """The open run whose decision task is claimed with ``token``, if it still is."""
        ...

    def activity_claimed_with(self, token: str) -> ActivityRecord | None:
        """The activity claimed with ``token``, if it still is."""
        ...

    def due_runs(self, now: datetime, limit: int) -> list[ProcessRecord]: ...
    def due_activities(self, now: datetime, limit: int) -> list[ActivityRecord]: ...
    def due_timers(self, now: datetime, limit: int) -> list[TimerRecord]: ...

    # retention: closed runs by the moment they closed, and forgetting one whole
    def purgeable_runs(
        self, cutoff: datetime, workflow: str | None, limit: int
    ) -> list[ProcessRecord]:
        """Up to ``limit`` closed runs that closed before ``cutoff``, oldest first."""
        ...

    def count_purgeable(self, cutoff: datetime, workflow: str | None) -> int: ...
    def count_runs(self, workflow: str | None, statuses: Sequence[str]) -> int: ...
    def delete_run(self, run_id: str) -> None:
        """Forget the run: its row, history, activities and timers."""
        ...


class AnswersAsAsked:
    """The ``expect_*`` hints of a transaction that answers each read as it is made
    (memory, SQLite in-process): nothing is gained by knowing a read ahead."""

    def expect_run(self, run_id: str) -> None:
        pass

    def expect_activity(self, run_id: str, activity_id: str) -> None:
        pass

    def expect_claim(
        self, kind: str, category: str, names: Sequence[str] | None, root_id: str | None
    ) -> None:
        pass


class Store(Protocol):
    #: Whether a write transaction excludes every other writer of the database, as
    #: SQLite's lock does: then a claim that would find nothing first looks in a
    #: read, which locks nothing, instead of holding up the writers with work.
    exclusive_writes: bool

    def run(self, work: Callable[[Transaction], V], durable: bool = True) -> V:
        """``work`` in one transaction: committed when it returns, rolled back when it
        raises; where the database aborted it for a conflict, run again from the start
        on a fresh transaction, so ``work`` must not keep state between tries.

        ``durable=False``: the commit need not outlive a crash of the database server
        that follows at once, so it need not wait for the server to flush it. Only for
        work that a crash of the caller would lose just as well, and that nothing
        is told of before it is made durable with a later commit: a claim, whose
        task is offered again if it is lost."""
        ...

    def read(self, work: Callable[[Transaction], V]) -> V:
        """``work`` on one consistent snapshot that takes no lock and writes nothing:
        watching a process never slows the workers that move it, and works while a
        writer holds the database (or on read-only media, for SQLite)."""
        ...

    def next_due_at(self) -> datetime | None:
        """The earliest moment a worker must look without being told: the least
        ``wake_at`` of runs, ``due_at`` of activities and timers."""
        ...

    def wait_for_change(self, timeout: float, task_list: tuple[str, str] | None = None) -> bool:
        """Block until another writer may have added work, or ``timeout`` seconds pass.

        With ``task_list`` (kind, category), a store that can tell wakes only for
        writes that gave that list work (with ``RUNS_CLOSED``, that closed a run);
        one that cannot wakes for any."""
        ...

    def purge_lock(self) -> AbstractContextManager[bool]:
        """Held by one purger at a time across every worker sharing the database:
        True when this caller got it, False when another purger holds it."""
        ...

    def vacuum(self) -> bool:
        """Give the space of deleted rows back to the file system, where the store must
        be asked to; False where it needs no asking (memory; PostgreSQL's autovacuum)."""
        ...

    def close(self) -> None: ...
