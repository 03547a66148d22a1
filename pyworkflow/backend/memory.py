"""The in-memory store: the twin of the SQL stores, for tests and development.

Thread-safe: one lock makes each unit of work atomic, and a condition wakes idle
workers the moment another thread commits. It has no rollback: the engine checks
everything a caller passes before its first write, so a unit that raises has
written nothing, or (a refusal) only what it commits anyway.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ..clock import Clock
from ..engine import Engine
from ..engine.records import (
    ActivityRecord,
    ActivityState,
    DecisionState,
    ProcessRecord,
    TimerRecord,
)
from ..engine.store import AnswersAsAsked
from ..events import Event
from ..observe import PublishedEvent

R = TypeVar("R")
V = TypeVar("V")


def _copy(record: R | None) -> R | None:
    return None if record is None else replace(record)  # type: ignore[type-var]


def _copy_run(run: ProcessRecord) -> ProcessRecord:
    """A copy that shares nothing mutable with the stored run."""
    return replace(run, tags=list(run.tags))


class _DueHeap:
    """Deadlines by time; entries go stale when a record moves, and are checked on read."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Any]] = []
        self._counter = 0

    def push(self, due: datetime | None, key: Any) -> None:
        if due is not None:
            self._counter += 1
            heapq.heappush(self._heap, (due, self._counter, key))

    def due(self, now: datetime, current_due: Any, limit: int) -> list[Any]:
        """Up to ``limit`` keys due at ``now``, earliest first. A read: the entries
        found stay (the caller may not act on them), stale ones are dropped."""
        keys: list[Any] = []
        kept: list[tuple[datetime, int, Any]] = []
        while self._heap and self._heap[0][0] <= now and len(keys) < limit:
            entry = heapq.heappop(self._heap)
            due, _, key = entry
            if key not in keys and current_due(key) == due:
                keys.append(key)
                kept.append(entry)
        for entry in kept:
            heapq.heappush(self._heap, entry)
        return keys

    def earliest(self, current_due: Any) -> datetime | None:
        while self._heap:
            due, _, key = self._heap[0]
            if current_due(key) == due:
                return due
            heapq.heappop(self._heap)
        return None


class _ReadyQueue:
    """The scheduled decisions of one category in claim order: ready earliest first,
    then the run started first. Entries go stale when a run moves, and are dropped
    when met; the head is the answer unless a worker filters by workflow."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []

    def push(self, ready_at: datetime, seq: int, run_id: str) -> None:
        heapq.heappush(self._heap, (ready_at, seq, run_id))

    def first(
        self,
        now: datetime,
        current: Callable[[str], datetime | None],
        accepts: Callable[[str], bool],
    ) -> str | None:
        heap = self._heap
        while heap and current(heap[0][2]) != heap[0][0]:
            heapq.heappop(heap)
        if not heap or heap[0][0] > now:
            return None
        if accepts(heap[0][2]):
            return heap[0][2]
        for ready_at, _, run_id in sorted(heap):
            if ready_at > now:
                return None
            if current(run_id) == ready_at and accepts(run_id):
                return run_id
        return None


class MemoryData:
    def __init__(self) -> None:
        self.runs: dict[str, ProcessRecord] = {}
        self.open_runs: dict[str, str] = {}
        self.runs_by_process: dict[str, list[str]] = {}
        self.histories: dict[str, list[Event]] = {}
        self.activities: dict[tuple[str, str], ActivityRecord] = {}
        self.activities_by_run: dict[str, set[str]] = {}
        self.timers: dict[tuple[str, str], TimerRecord] = {}
        self.timers_by_run: dict[str, set[str]] = {}
        self.run_seq: dict[str, int] = {}
        self.decision_queues: dict[str, _ReadyQueue] = {}
        self.activity_queues: dict[str, dict[tuple[str, str], None]] = {}
        self.due_runs = _DueHeap()
        self.due_activities = _DueHeap()
        self.due_timers = _DueHeap()
        self.delayed_decisions = _DueHeap()


class MemoryTransaction(AnswersAsAsked):
    def __init__(self, data: MemoryData) -> None:
        self.d = data
        self.dirty = False
        self.appended: list[PublishedEvent] = []

    # processes

    def now(self) -> datetime | None:
        return None  # one process: its own clock is the only one

    def insert_process(self, record: ProcessRecord) -> None:
        self.d.run_seq[record.run_id] = len(self.d.run_seq)
        self.d.runs_by_process.setdefault(record.process_id, []).append(record.run_id)
        self.d.histories[record.run_id] = []
        self._store_run(_copy_run(record))

    def update_process(self, record: ProcessRecord) -> None:
        self._store_run(_copy_run(record))

    def _store_run(self, record: ProcessRecord) -> None:
        d = self.d
        self.dirty = True
        previous = d.runs.get(record.run_id)
        d.runs[record.run_id] = record
        if record.is_open:
            d.open_runs[record.process_id] = record.run_id
        elif d.open_runs.get(record.process_id) == record.run_id:
            del d.open_runs[record.process_id]
        ready_at = record.decision_ready_at
        if (
            record.decision == DecisionState.SCHEDULED
            and ready_at is not None
            and (
                previous is None
                or previous.decision != DecisionState.SCHEDULED
                or previous.decision_ready_at != ready_at
            )
        ):
            queue = d.decision_queues.setdefault(record.category, _ReadyQueue())
            queue.push(ready_at, d.run_seq[record.run_id], record.run_id)
        delayed = record.decision_delayed_until
        if previous is None or previous.decision_delayed_until != delayed:
            d.delayed_decisions.push(delayed, record.run_id)
        if previous is None or previous.due_at != record.due_at:
            d.due_runs.push(record.due_at, record.run_id)

    def get_run(self, run_id: str) -> ProcessRecord | None:
        run = self.d.runs.get(run_id)
        return None if run is None else _copy_run(run)

    def get_open_run(self, process_id: str) -> ProcessRecord | None:
        run_id = self.d.open_runs.get(process_id)
        return None if run_id is None else self.get_run(run_id)

    def get_latest_run(self, process_id: str) -> ProcessRecord | None:
        open_run = self.get_open_run(process_id)
        if open_run is not None:
            return open_run
        run_ids = self.d.runs_by_process.get(process_id)
        return self.get_run(run_ids[-1]) if run_ids else None

    def list_runs(
        self, workflow: str | None, tag: str | None, statuses: Sequence[str]
    ) -> list[ProcessRecord]:
        """Oldest first: runs are kept in the order they started."""
        return [
            _copy_run(run)
            for run in self.d.runs.values()
            if run.status in statuses
            and (workflow is None or run.workflow == workflow)
            and (tag is None or tag in run.tags)
        ]

    def process_runs(self, process_id: str) -> list[ProcessRecord]:
        run_ids = self.d.runs_by_process.get(process_id, [])
        return [_copy_run(self.d.runs[run_id]) for run_id in run_ids]

    def open_children(self, parent_run: str) -> list[ProcessRecord]:
        return [
            _copy_run(run)
            for run in self.d.runs.values()
            if run.parent_run == parent_run and run.is_open
        ]

    # history

    def append_events(self, run: ProcessRecord, events: Iterable[Event]) -> None:
        self.dirty = True
        added = list(events)
        self.d.histories[run.run_id].extend(added)
        self.appended.extend(
            PublishedEvent(run.process_id, run.run_id, run.workflow, event) for event in added
        )

    def history(self, run_id: str, after: int = 0) -> list[Event]:
        return list(self.d.histories.get(run_id, ())[after:])

    # activities

    def insert_activity(self, record: ActivityRecord) -> None:
        self.d.activities_by_run.setdefault(record.run_id, set()).add(record.activity_id)
        self.update_activity(record)

    def update_activity(self, record: ActivityRecord) -> None:
        d = self.d
        self.dirty = True
        key = (record.run_id, record.activity_id)
        previous = d.activities.get(key)
        d.activities[key] = replace(record)
        queue = d.activity_queues.setdefault(record.category, {})
        if record.state == ActivityState.SCHEDULED:
            queue.setdefault(key, None)
        else:
            queue.pop(key, None)
        if previous is None or previous.due_at != record.due_at:
            d.due_activities.push(record.due_at, key)

    def delete_activity(self, run_id: str, activity_id: str) -> None:
        record = self.d.activities.pop((run_id, activity_id), None)
        if record is not None:
            self.dirty = True
            self.d.activity_queues[record.category].pop((run_id, activity_id), None)
            self.d.activities_by_run[run_id].discard(activity_id)

    def get_activity(self, run_id: str, activity_id: str) -> ActivityRecord | None:
        return _copy(self.d.activities.get((run_id, activity_id)))

    def delete_activities_of(self, run_id: str) -> None:
        for activity_id in list(self.d.activities_by_run.get(run_id, ())):
            self.delete_activity(run_id, activity_id)

    # timers

    def insert_timer(self, record: TimerRecord) -> None:
        self.dirty = True
        self.d.timers[(record.run_id, record.timer_id)] = record
        self.d.timers_by_run.setdefault(record.run_id, set()).add(record.timer_id)
        self.d.due_timers.push(record.due_at, (record.run_id, record.timer_id))

    def delete_timer(self, run_id: str, timer_id: str) -> bool:
        if self.d.timers.pop((run_id, timer_id), None) is None:
            return False
        self.dirty = True
        self.d.timers_by_run[run_id].discard(timer_id)
        return True

    def has_timer(self, run_id: str, timer_id: str) -> bool:
        return (run_id, timer_id) in self.d.timers

    def delete_timers_of(self, run_id: str) -> None:
        for timer_id in list(self.d.timers_by_run.get(run_id, ())):
            self.delete_timer(run_id, timer_id)

    # claiming and due work

    def next_decision(
        self,
        category: str,
        now: datetime,
        workflows: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ProcessRecord | None:
        queue = self.d.decision_queues.get(category)
        if queue is None:
            return None
        runs = self.d.runs
        names = None if workflows is None else frozenset(workflows)
        run_id = queue.first(
            now,
            self._ready_at,
            lambda run_id: (
                (names is None or runs[run_id].workflow in names)
                and (root_id is None or runs[run_id].root_id == root_id)
            ),
        )
        return None if run_id is None else _copy_run(runs[run_id])

    def _ready_at(self, run_id: str) -> datetime | None:
        run = self.d.runs.get(run_id)
        if run is None or run.decision != DecisionState.SCHEDULED:
            return None
        return run.decision_ready_at

    def next_activity(
        self,
        category: str,
        activities: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ActivityRecord | None:
        for key in self.d.activity_queues.get(category, {}):
            record = self.d.activities[key]
            if (activities is None or record.activity in activities) and (
                root_id is None or record.root_id == root_id
            ):
                return replace(record)
        return None

    def decision_claimed_with(self, token: str) -> ProcessRecord | None:
        for run_id in self.d.open_runs.values():
            run = self.d.runs[run_id]
            if run.decision == DecisionState.STARTED and run.decision_token == token:
                return _copy_run(run)
        return None

    def activity_claimed_with(self, token: str) -> ActivityRecord | None:
        for record in self.d.activities.values():
            if record.state == ActivityState.STARTED and record.token == token:
                return replace(record)
        return None

    def due_runs(self, now: datetime, limit: int) -> list[ProcessRecord]:
        keys = self.d.due_runs.due(now, self._run_due, limit)
        return [_copy_run(self.d.runs[key]) for key in keys]

    def due_activities(self, now: datetime, limit: int) -> list[ActivityRecord]:
        keys = self.d.due_activities.due(now, self._activity_due, limit)
        return [replace(self.d.activities[key]) for key in keys]

    def due_timers(self, now: datetime, limit: int) -> list[TimerRecord]:
        keys = self.d.due_timers.due(now, self._timer_due, limit)
        return [replace(self.d.timers[key]) for key in keys]

    # retention (a scan: the memory store holds what one test or session makes)

    def purgeable_runs(
        self, cutoff: datetime, workflow: str | None, limit: int
    ) -> list[ProcessRecord]:
        closed = sorted(
            (run for run in self.d.runs.values() if self._purgeable(run, cutoff, workflow)),
            key=lambda run: run.closed_at or cutoff,
        )
        return [replace(run) for run in closed[:limit]]

    def count_purgeable(self, cutoff: datetime, workflow: str | None) -> int:
        return sum(1 for run in self.d.runs.values() if self._purgeable(run, cutoff, workflow))

    def count_runs(self, workflow: str | None, statuses: Sequence[str]) -> int:
        return sum(
            1
            for run in self.d.runs.values()
            if run.status in statuses and (workflow is None or run.workflow == workflow)
        )

    @staticmethod
    def _purgeable(run: ProcessRecord, cutoff: datetime, workflow: str | None) -> bool:
        return (
            run.closed_at is not None
            and run.closed_at < cutoff
            and not run.is_open
            and (workflow is None or run.workflow == workflow)
        )

    def delete_run(self, run_id: str) -> None:
        d = self.d
        run = d.runs.pop(run_id, None)
        if run is None:
            return
        self.dirty = True
        self.delete_activities_of(run_id)
        self.delete_timers_of(run_id)
        d.activities_by_run.pop(run_id, None)
        d.timers_by_run.pop(run_id, None)
        d.histories.pop(run_id, None)
        # Its entry in the decision queue is stale now, and dropped when met.
        if d.open_runs.get(run.process_id) == run_id:
            del d.open_runs[run.process_id]
        siblings = d.runs_by_process.get(run.process_id, [])
        if run_id in siblings:
            siblings.remove(run_id)
        if not siblings:
            d.runs_by_process.pop(run.process_id, None)

    def _run_due(self, run_id: str) -> datetime | None:
        run = self.d.runs.get(run_id)
        return None if run is None else run.due_at

    def _activity_due(self, key: tuple[str, str]) -> datetime | None:
        record = self.d.activities.get(key)
        return None if record is None else record.due_at

    def _timer_due(self, key: tuple[str, str]) -> datetime | None:
        record = self.d.timers.get(key)
        return None if record is None else record.due_at

    def _delayed_decision_due(self, run_id: str) -> datetime | None:
        run = self.d.runs.get(run_id)
        return None if run is None else run.decision_delayed_until


class MemoryStore:
    # Its lock is held for microseconds, by threads of one process: a look first
    # would cost as much as the claim it saves.
    exclusive_writes = False

    def __init__(self) -> None:
        self._data = MemoryData()
        self._changed = threading.Condition(threading.RLock())
        self._version = 0
        self._purging = threading.Lock()

    def run(self, work: Callable[[MemoryTransaction], V], durable: bool = True) -> V:
        with self._changed:
            tx = MemoryTransaction(self._data)
            try:
                return work(tx)
            finally:
                if tx.dirty:
                    self._version += 1
                    self._changed.notify_all()

    def read(self, work: Callable[[MemoryTransaction], V]) -> V:
        with self._changed:
            return work(MemoryTransaction(self._data))

    def next_due_at(self) -> datetime | None:
        with self._changed:
            tx = MemoryTransaction(self._data)
            d = self._data
            candidates = [
                d.due_runs.earliest(tx._run_due),
                d.due_activities.earliest(tx._activity_due),
                d.due_timers.earliest(tx._timer_due),
                d.delayed_decisions.earliest(tx._delayed_decision_due),
            ]
            present = [moment for moment in candidates if moment is not None]
            return min(present) if present else None

    @contextmanager
    def purge_lock(self) -> Iterator[bool]:
        got = self._purging.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._purging.release()

    def wait_for_change(self, timeout: float, task_list: tuple[str, str] | None = None) -> bool:
        with self._changed:
            version = self._version
            self._changed.wait_for(lambda: self._version != version, timeout=timeout)
            return self._version != version

    def vacuum(self) -> bool:
        return False

    def close(self) -> None:
        pass


class MemoryBackend(Engine):
    """Keeps everything in this Python process; thread-safe, gone when it exits."""

    def __init__(
        self, clock: Clock | None = None, retention: timedelta | str | None = None
    ) -> None:
        super().__init__(MemoryStore(), clock=clock, retention=retention)
