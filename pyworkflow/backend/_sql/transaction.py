"""The engine's Transaction over one SQL connection, for every SQL dialect.

The store opens and ends the database transaction; this object only runs the
shared statements inside it. ``execute`` is the connection's own (sqlite3 and
psycopg both have one), given statements already in the driver's style.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ... import codec
from ...engine.records import ActivityRecord, ProcessRecord, TimerRecord
from ...engine.store import AnswersAsAsked
from ...events import Event
from ...observe import PublishedEvent
from . import Statements
from .rows import (
    ACTIVITY_UPDATABLE,
    EPOCH,
    MICROSECOND,
    RUN_UPDATABLE,
    activity_from_row,
    activity_params,
    activity_update_params,
    encode_json,
    run_from_row,
    run_params,
    run_update_params,
    stored_activity,
    stored_run,
    timer_from_row,
    timer_params,
    to_micros,
)

Execute = Callable[[str, Any], Any]


_RUN_KEY = ("run_id",)
_ACTIVITY_KEY = ("run_id", "activity_id")


class SQLTransaction(AnswersAsAsked):
    def __init__(self, execute: Execute, statements: Statements) -> None:
        self._execute = execute
        self._sql = statements
        # What the database holds for each run and activity this transaction read
        # or wrote, by table and key: an update sets only the columns it changes.
        self._stored: dict[tuple[str, ...], dict[str, Any]] = {}
        # The last event number of each run appended to in this transaction.
        self._last_event: dict[str, int] = {}
        self.appended: list[PublishedEvent] = []
        # The moment at which nothing was found due, so the sweep asks once a call.
        self._nothing_due_at: int | None = None

    def _one(self, name: str, params: Any) -> Any:
        return self._execute(self._sql[name], params).fetchone()

    def _all(self, name: str, params: Any) -> list[Any]:
        return self._execute(self._sql[name], params).fetchall()

    def now(self) -> datetime | None:
        """None: a database on one machine (SQLite) shares the callers' clock."""
        return None

    # processes

    def _run_read(self, row: Sequence[Any] | None) -> ProcessRecord | None:
        if row is None:
            return None
        run = run_from_row(row)
        self._stored[("runs", run.run_id)] = stored_run(row, run)
        return run

    def _activity_read(self, row: Sequence[Any] | None) -> ActivityRecord | None:
        if row is None:
            return None
        activity = activity_from_row(row)
        key = ("activities", activity.run_id, activity.activity_id)
        self._stored[key] = stored_activity(row, activity)
        return activity

    def _update(
        self, table: str, keys: tuple[str, ...], columns: tuple[str, ...], params: dict[str, Any]
    ) -> None:
        """UPDATE the columns whose value differs from what this transaction knows
        the row holds (all of them when it knows nothing); none differing, none."""
        stored_key = (table, *(params[key] for key in keys))
        before = self._stored.get(stored_key)
        if before is not None:
            columns = tuple(column for column in columns if params[column] != before[column])
        if columns:
            self._execute(self._sql.update_setting(table, keys, columns), params)
        self._stored[stored_key] = params

    def insert_process(self, record: ProcessRecord) -> None:
        params = run_params(record)
        self._execute(self._sql["insert_run"], params)
        self._stored[("runs", record.run_id)] = params
        self._last_event[record.run_id] = 0

    def update_process(self, record: ProcessRecord) -> None:
        self._update("runs", _RUN_KEY, RUN_UPDATABLE, run_update_params(record))

    def get_run(self, run_id: str) -> ProcessRecord | None:
        return self._run_read(self._one("get_run", {"run_id": run_id}))

    def get_open_run(self, process_id: str) -> ProcessRecord | None:
        return self._run_read(self._one("get_open_run", {"process_id": process_id}))

    def get_latest_run(self, process_id: str) -> ProcessRecord | None:
        row = self._one("get_latest_run", {"process_id": process_id})
        return None if row is None else run_from_row(row)

    def list_runs(
        self, workflow: str | None, tag: str | None, statuses: Sequence[str]
    ) -> list[ProcessRecord]:
        params = {"statuses": name_list(statuses), "workflow": workflow}
        runs = [run_from_row(row) for row in self._all("list_runs", params)]
        return [run for run in runs if tag is None or tag in run.tags]

    def process_runs(self, process_id: str) -> list[ProcessRecord]:
        return [run_from_row(row) for row in self._all("process_runs", {"process_id": process_id})]

    def open_children(self, parent_run: str) -> list[ProcessRecord]:
        rows = self._all("open_children", {"parent_run": parent_run})
        return [run for run in map(self._run_read, rows) if run is not None]

    # history

    def append_events(self, run: ProcessRecord, events: Iterable[Event]) -> None:
        for event in events:
            self._append_event(run.run_id, encode_json(event))
            self.appended.append(PublishedEvent(run.process_id, run.run_id, run.workflow, event))

    def _append_event(self, run_id: str, body: str) -> None:
        """Events after one whose number is known count on from it."""
        last = self._last_event.get(run_id)
        if last is None:
            number = self._append_unnumbered(run_id, body)
            if number is not None:
                self._last_event[run_id] = number
            return
        self._last_event[run_id] = last + 1
        self._execute(self._sql["insert_event"], {"run_id": run_id, "seq": last + 1, "body": body})

    def _append_unnumbered(self, run_id: str, body: str) -> int | None:
        """An event whose number this transaction does not know yet: it numbers
        itself after the run's last, and tells the number it got."""
        return int(self._one("insert_next_event", {"run_id": run_id, "body": body})[0])

    def history(self, run_id: str, after: int = 0) -> list[Event]:
        loads = codec.loads
        rows = self._all("history", {"run_id": run_id, "after": after})
        return [loads(row[0]) for row in rows]

    # activities

    def insert_activity(self, record: ActivityRecord) -> None:
        params = activity_params(record)
        self._execute(self._sql["insert_activity"], params)
        self._stored[("activities", record.run_id, record.activity_id)] = params

    def update_activity(self, record: ActivityRecord) -> None:
        params = activity_update_params(record)
        self._update("activities", _ACTIVITY_KEY, ACTIVITY_UPDATABLE, params)

    def delete_activity(self, run_id: str, activity_id: str) -> None:
        self._execute(self._sql["delete_activity"], {"run_id": run_id, "activity_id": activity_id})
        self._stored.pop(("activities", run_id, activity_id), None)

    def get_activity(self, run_id: str, activity_id: str) -> ActivityRecord | None:
        return self._activity_read(
            self._one("get_activity", {"run_id": run_id, "activity_id": activity_id})
        )

    def delete_activities_of(self, run_id: str) -> None:
        self._execute(self._sql["delete_activities_of"], {"run_id": run_id})

    # timers

    def insert_timer(self, record: TimerRecord) -> None:
        self._execute(self._sql["insert_timer"], timer_params(record))

    def delete_timer(self, run_id: str, timer_id: str) -> bool:
        cursor = self._execute(self._sql["delete_timer"], {"run_id": run_id, "timer_id": timer_id})
        return bool(cursor.rowcount)

    def has_timer(self, run_id: str, timer_id: str) -> bool:
        return self._one("has_timer", {"run_id": run_id, "timer_id": timer_id}) is not None

    def delete_timers_of(self, run_id: str) -> None:
        self._execute(self._sql["delete_timers_of"], {"run_id": run_id})

    # claiming and due work

    def next_decision(
        self,
        category: str,
        now: datetime,
        workflows: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ProcessRecord | None:
        params = {
            "category": category,
            "now": to_micros(now),
            "names": name_list(workflows),
            "root_id": root_id,
        }
        return self._run_read(self._one("next_decision", params))

    def next_activity(
        self,
        category: str,
        activities: Sequence[str] | None = None,
        root_id: str | None = None,
    ) -> ActivityRecord | None:
        params = {"category": category, "names": name_list(activities), "root_id": root_id}
        return self._claimed_activity(self._one("next_activity", params))

    def _claimed_activity(self, row: Sequence[Any] | None) -> ActivityRecord | None:
        return self._activity_read(row)

    def decision_claimed_with(self, token: str) -> ProcessRecord | None:
        return self._run_read(self._one("decision_claimed_with", {"token": token}))

    def activity_claimed_with(self, token: str) -> ActivityRecord | None:
        return self._activity_read(self._one("activity_claimed_with", {"token": token}))

    # The sweep of due work: one statement answers "nothing is due", the common
    # case, instead of one query per kind of deadline.

    def _earliest_deadline(self, micros: int) -> int | None:
        """The earliest deadline, timer or delayed decision of any run, in micros."""
        return self._one("earliest_sweep", {})[0]

    def _nothing_due(self, now: datetime) -> bool:
        micros = (now - EPOCH) // MICROSECOND
        if self._nothing_due_at != micros:
            earliest = self._earliest_deadline(micros)
            if earliest is not None and earliest <= micros:
                return False
            self._nothing_due_at = micros
        return True

    def due_runs(self, now: datetime, limit: int) -> list[ProcessRecord]:
        if self._nothing_due(now):
            return []
        rows = self._all("due_runs", {"now": to_micros(now), "limit": limit})
        return [run for run in map(self._run_read, rows) if run is not None]

    def due_activities(self, now: datetime, limit: int) -> list[ActivityRecord]:
        if self._nothing_due(now):
            return []
        rows = self._all("due_activities", {"now": to_micros(now), "limit": limit})
        return [activity for activity in map(self._activity_read, rows) if activity is not None]

    def due_timers(self, now: datetime, limit: int) -> list[TimerRecord]:
        if self._nothing_due(now):
            return []
        rows = self._all("due_timers", {"now": to_micros(now), "limit": limit})
        return [timer_from_row(row) for row in rows]

    # retention

    def purgeable_runs(
        self, cutoff: datetime, workflow: str | None, limit: int
    ) -> list[ProcessRecord]:
        params = {"cutoff": to_micros(cutoff), "workflow": workflow, "limit": limit}
        return [run_from_row(row) for row in self._all("purgeable_runs", params)]

    def count_purgeable(self, cutoff: datetime, workflow: str | None) -> int:
        params = {"cutoff": to_micros(cutoff), "workflow": workflow}
        return int(self._one("count_purgeable", params)[0])

    def count_runs(self, workflow: str | None, statuses: Sequence[str]) -> int:
        return sum(
            int(self._one("count_runs", {"status": status, "workflow": workflow})[0])
            for status in statuses
        )

    def delete_run(self, run_id: str) -> None:
        for name in ("delete_events_of", "delete_activities_of", "delete_timers_of", "delete_run"):
            self._execute(self._sql[name], {"run_id": run_id})
        self._last_event.pop(run_id, None)
        self._stored.pop(("runs", run_id), None)


def name_list(names: Sequence[str] | None) -> str | None:
    """The ",A,B," form the claim statements test membership in; None for any name."""
    return None if names is None else "," + ",".join(names) + ","
