"""The store contract (pyworkflow.engine.store), held against every store.

The engine relies on these and nothing else: claim order, what counts as due,
copies handed out, one unit of work. A new store passes this suite first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pyworkflow.clock import ManualClock
from pyworkflow.decision import Timer
from pyworkflow.engine import Store
from pyworkflow.engine.records import (
    ActivityRecord,
    ActivityState,
    DecisionState,
    ProcessRecord,
    TimerRecord,
)
from pyworkflow.events import ProcessStartedEvent, SignalEvent
from pyworkflow.process import ProcessStatus
from pyworkflow.signal import Signal

from .backends import BACKENDS

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
STORES = ["memory", "sqlite", "postgres"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    with BACKENDS[request.param](tmp_path) as factory:
        backend = factory(ManualClock(T0))
        try:
            yield backend.store  # type: ignore[attr-defined]
        finally:
            backend.close()


def run_record(run_id: str, **fields: Any) -> ProcessRecord:
    values: dict[str, Any] = {
        "run_id": run_id,
        "process_id": f"process-{run_id}",
        "workflow": "Flow",
        "category": "default",
        "decision_timeout": 60.0,
        "started_at": T0,
    }
    values.update(fields)
    return ProcessRecord(**values)


def activity_record(run_id: str, activity_id: str, **fields: Any) -> ActivityRecord:
    values: dict[str, Any] = {
        "run_id": run_id,
        "process_id": f"process-{run_id}",
        "activity_id": activity_id,
        "activity": "Echo",
        "category": "default",
        "scheduled_at": T0,
        "schedule_deadline": at(1000),
        "execution_timeout": 100.0,
        "heartbeat_timeout": 100.0,
    }
    values.update(fields)
    return ActivityRecord(**values)


def scheduled(run_id: str, ready_at: datetime, failures: int = 0, **fields: Any) -> ProcessRecord:
    return run_record(
        run_id,
        decision=DecisionState.SCHEDULED,
        decision_ready_at=ready_at,
        decision_failures=failures,
        **fields,
    )


def insert(store: Store, *records: ProcessRecord) -> None:
    def work(tx: Any) -> None:
        for record in records:
            tx.insert_process(record)

    store.run(work)


def claim(store: Store, now: datetime, workflows: list[str] | None = None) -> str | None:
    run = store.run(lambda tx: tx.next_decision("default", now, workflows))
    return None if run is None else run.run_id


# -- claim order ------------------------------------------------------------------------


def test_the_decision_ready_earliest_is_claimed_first_whatever_the_start_order(store) -> None:
    # "backed-off" started first, failed, and waits until 10 s; "later" was ready at 5 s.
    insert(store, scheduled("backed-off", at(10), failures=1), scheduled("later", at(5)))
    assert claim(store, at(20)) == "later"


def test_decisions_ready_at_one_moment_are_claimed_in_start_order(store) -> None:
    insert(store, scheduled("first", at(5)), scheduled("second", at(5)), scheduled("third", at(1)))
    order = []
    for _ in range(3):
        run_id = claim(store, at(5))
        assert run_id is not None
        order.append(run_id)

        def take(tx: Any, run_id: str = run_id) -> None:
            run = tx.get_run(run_id)
            run.decision = DecisionState.STARTED
            tx.update_process(run)

        store.run(take)
    assert order == ["third", "first", "second"]
    assert claim(store, at(5)) is None


def test_a_decision_not_yet_ready_is_not_claimed(store) -> None:
    insert(store, scheduled("backed-off", at(10), failures=1))
    assert claim(store, at(9)) is None
    assert claim(store, at(10)) == "backed-off"


def test_a_claim_takes_only_the_workflows_asked_for(store) -> None:
    insert(store, scheduled("other", at(1), workflow="Other"), scheduled("mine", at(2)))
    assert claim(store, at(5), ["Flow"]) == "mine"
    assert claim(store, at(5), ["Nothing"]) is None
    assert claim(store, at(5)) == "other"


def test_a_claim_takes_only_its_category(store) -> None:
    insert(store, scheduled("elsewhere", at(1), category="billing"))
    assert claim(store, at(5)) is None
    run = store.run(lambda tx: tx.next_decision("billing", at(5)))
    assert run is not None and run.run_id == "elsewhere"


def test_activities_are_claimed_in_the_order_they_were_scheduled(store) -> None:
    insert(store, run_record("r"))

    def schedule(tx: Any) -> None:
        tx.insert_activity(activity_record("r", "b", activity="Other"))
        tx.insert_activity(activity_record("r", "a"))

    store.run(schedule)
    first = store.run(lambda tx: tx.next_activity("default"))
    assert first is not None and first.activity_id == "b"
    only_echo = store.run(lambda tx: tx.next_activity("default", ["Echo"]))
    assert only_echo is not None and only_echo.activity_id == "a"
    assert store.run(lambda tx: tx.next_activity("default", ["Missing"])) is None


# -- what is due ----------------------------------------------------------------------------


def test_next_due_at_counts_deadlines_timers_and_delayed_decisions_only(store) -> None:
    assert store.next_due_at() is None
    insert(store, scheduled("ready", at(1)))  # ready now: its write already woke everyone
    assert store.next_due_at() is None
    insert(store, scheduled("delayed", at(30), failures=2, timeout_at=at(50)))
    assert store.next_due_at() == at(30)

    def more(tx: Any) -> None:
        tx.insert_activity(activity_record("ready", "act", schedule_deadline=at(20)))
        tx.insert_timer(TimerRecord("ready", "t", Timer(10, id="t"), at(10)))

    store.run(more)
    assert store.next_due_at() == at(10)


def test_due_work_comes_in_due_order_up_to_the_limit(store) -> None:
    insert(
        store,
        run_record("late", timeout_at=at(30)),
        run_record("early", timeout_at=at(10)),
        run_record("future", timeout_at=at(99)),
    )

    def timers(tx: Any) -> None:
        for name, seconds in (("b", 20), ("a", 5), ("c", 90)):
            tx.insert_timer(TimerRecord("early", name, Timer(seconds, id=name), at(seconds)))
        for name, seconds in (("y", 25), ("x", 15)):
            tx.insert_activity(activity_record("early", name, schedule_deadline=at(seconds)))

    store.run(timers)
    assert [run.run_id for run in store.run(lambda tx: tx.due_runs(at(50), 10))] == [
        "early",
        "late",
    ]
    assert [t.timer_id for t in store.run(lambda tx: tx.due_timers(at(50), 10))] == ["a", "b"]
    assert [t.timer_id for t in store.run(lambda tx: tx.due_timers(at(50), 1))] == ["a"]
    due = store.run(lambda tx: tx.due_activities(at(50), 10))
    assert [activity.activity_id for activity in due] == ["x", "y"]


def test_a_started_decisions_deadline_makes_its_run_due(store) -> None:
    insert(
        store,
        run_record(
            "held", decision=DecisionState.STARTED, decision_deadline=at(7), timeout_at=at(100)
        ),
    )
    assert [run.run_id for run in store.run(lambda tx: tx.due_runs(at(8), 10))] == ["held"]
    assert store.next_due_at() == at(7)


# -- rows --------------------------------------------------------------------------------------


def test_records_handed_out_are_copies(store) -> None:
    insert(store, run_record("r", tags=["a"]))

    def change_without_writing(tx: Any) -> None:
        run = tx.get_run("r")
        run.tags.append("changed")
        run.status = ProcessStatus.COMPLETED

    store.run(change_without_writing)
    again = store.run(lambda tx: tx.get_run("r"))
    assert again.tags == ["a"] and again.is_open


def test_a_process_id_has_one_open_run_and_a_latest_one(store) -> None:
    closed = run_record("old", process_id="p", status=ProcessStatus.COMPLETED, closed_at=at(1))
    insert(store, closed, run_record("new", process_id="p"))
    assert store.run(lambda tx: tx.get_open_run("p")).run_id == "new"
    assert store.run(lambda tx: tx.get_latest_run("p")).run_id == "new"
    assert store.run(lambda tx: tx.get_open_run("nobody")) is None


def test_listing_is_oldest_first_across_statuses_and_filters(store) -> None:
    insert(
        store,
        run_record("a", status=ProcessStatus.COMPLETED, tags=["x"]),
        run_record("b"),
        run_record("c", status=ProcessStatus.FAILED, workflow="Other"),
        run_record("d", tags=["x"]),
    )

    def listed(workflow: str | None, tag: str | None, statuses: tuple[str, ...]) -> list[str]:
        runs = store.run(lambda tx: tx.list_runs(workflow, tag, statuses))
        return [run.run_id for run in runs]

    assert listed(None, None, ProcessStatus.ALL) == ["a", "b", "c", "d"]
    assert listed(None, None, ProcessStatus.CLOSED) == ["a", "c"]
    assert listed(None, None, (ProcessStatus.OPEN,)) == ["b", "d"]
    assert listed("Flow", "x", ProcessStatus.ALL) == ["a", "d"]


def test_history_keeps_order_and_the_unit_lists_what_it_appended(store) -> None:
    run = run_record("r")
    events = [ProcessStartedEvent(T0), SignalEvent(Signal("one"), T0), SignalEvent(Signal("two"))]

    def write(tx: Any) -> list[Any]:
        tx.insert_process(run)
        tx.append_events(run, events[:1])
        tx.append_events(run, events[1:])
        return list(tx.appended)

    appended = store.run(write)
    assert store.run(lambda tx: tx.history("r")) == events
    assert [published.event for published in appended] == events
    assert {(p.process_id, p.run_id, p.workflow) for p in appended} == {("process-r", "r", "Flow")}


def test_a_unit_that_raises_is_rolled_back(store, request: pytest.FixtureRequest) -> None:
    if "memory" in request.node.callspec.id:
        pytest.skip("the memory store has no rollback: the engine checks before it writes")
    insert(store, run_record("r"))

    def work(tx: Any) -> None:
        run = tx.get_run("r")
        run.status = ProcessStatus.FAILED
        tx.update_process(run)
        tx.insert_activity(activity_record("r", "a", state=ActivityState.SCHEDULED))
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        store.run(work)
    assert store.run(lambda tx: tx.get_run("r")).is_open
    assert store.run(lambda tx: tx.get_activity("r", "a")) is None


def test_a_claim_may_keep_to_one_tree_of_processes(store) -> None:
    insert(
        store,
        scheduled("other", at(1), root_id="other-root"),
        scheduled("mine", at(2), root_id="root"),
    )

    def schedule(tx: Any) -> None:
        tx.insert_activity(activity_record("other", "a", root_id="other-root"))
        tx.insert_activity(activity_record("mine", "b", root_id="root"))

    store.run(schedule)
    run = store.run(lambda tx: tx.next_decision("default", at(5), None, "root"))
    assert run is not None and run.run_id == "mine"
    activity = store.run(lambda tx: tx.next_activity("default", None, "root"))
    assert activity is not None and activity.activity_id == "b"
    assert store.run(lambda tx: tx.next_activity("default", None, "nobody")) is None
