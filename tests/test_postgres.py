"""What only the PostgreSQL backend has: its schema and migrations, its errors,
and many stores (as on many machines) acting on one database at once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyworkflow.backend._postgres_pipeline import Pipeline
from pyworkflow.backend._sql import migrations
from pyworkflow.backend.base import RUNS_CLOSED
from pyworkflow.backend.postgres import (
    ATTEMPTS,
    NOT_FLUSHED,
    SCHEMA_VERSION,
    ConflictError,
    PostgresBackend,
)
from pyworkflow.clock import ManualClock
from pyworkflow.decision import CompleteProcess, ScheduleActivity, Timer
from pyworkflow.events import SignalEvent
from pyworkflow.exceptions import (
    BackendConfigurationError,
    BackendError,
    BackendUnavailableError,
    ProcessClosedException,
    UnknownActivityException,
)
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.signal import Signal
from pyworkflow.workflow import Workflow

from .postgres_db import DATABASE, server_dsn
from .support import (
    ALL_WORKFLOWS,
    EchoActivity,
    ManualWorkflow,
    TimeoutsActivity,
    decide,
    start,
    take_activity,
    take_decision,
)

SECRET = "hunter2-not-for-logs"


@pytest.fixture
def dsn() -> str:
    return DATABASE.dsn()


@pytest.fixture
def schema() -> Iterator[str]:
    name = DATABASE.new_schema_name()
    yield name
    DATABASE.drop_schemas([name])


@pytest.fixture
def backends(dsn: str, schema: str) -> Iterator[Callable[..., PostgresBackend]]:
    """Makes backends on one schema, as workers on several machines would be; closes them."""
    made: list[PostgresBackend] = []

    def make(clock=None) -> PostgresBackend:
        backend = PostgresBackend(dsn, schema=schema, **({"clock": clock} if clock else {}))
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def query(dsn: str, schema: str, text: str) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        cursor = connection.execute(text)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def run_threads(count: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    assert errors == []


# -- schema ------------------------------------------------------------------------------------


def test_first_use_creates_the_schema_at_the_current_version(backends, dsn, schema) -> None:
    backends()
    assert query(dsn, schema, "SELECT version FROM pyworkflow_schema") == [(SCHEMA_VERSION,)]
    tables = query(
        dsn,
        schema,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    assert {name for (name,) in tables} == {
        "pyworkflow_schema",
        "runs",
        "events",
        "activities",
        "timers",
    }


def test_postgres_migrations_start_at_one_without_gaps() -> None:
    assert list(migrations("postgres")) == list(range(1, SCHEMA_VERSION + 1))


def test_workers_starting_at_once_migrate_exactly_once(backends, dsn, schema) -> None:
    run_threads(6, lambda index: backends())
    assert query(dsn, schema, "SELECT version FROM pyworkflow_schema") == [(SCHEMA_VERSION,)]


def test_a_second_backend_keeps_what_the_first_stored(backends) -> None:
    first = Manager(backends(), workflows=ALL_WORKFLOWS)
    process_id = start(first)
    second = Manager(backends(), workflows=ALL_WORKFLOWS)
    assert second.process_by_id(process_id).is_open


def test_a_newer_schema_is_refused_and_left_alone(backends, dsn, schema) -> None:
    backends()
    query(dsn, schema, "UPDATE pyworkflow_schema SET version = 99")
    with pytest.raises(BackendConfigurationError, match="schema version 99 is newer") as refused:
        backends()
    assert "upgrade pyworkflow" in str(refused.value)
    assert query(dsn, schema, "SELECT version FROM pyworkflow_schema") == [(99,)]


def test_a_schema_name_that_is_not_a_plain_identifier_is_refused(dsn) -> None:
    with pytest.raises(BackendConfigurationError, match="schema name"):
        PostgresBackend(dsn, schema='x"; DROP TABLE runs; --')


# -- errors ------------------------------------------------------------------------------------


def test_connection_refused_names_the_server_but_never_the_password() -> None:
    dsn = f"postgresql://app:{SECRET}@127.0.0.1:1/appdb"
    with pytest.raises(BackendUnavailableError) as refused:
        PostgresBackend(dsn)
    message = str(refused.value)
    assert "127.0.0.1:1/appdb" in message
    assert "cannot connect" in message
    assert "\n" not in message
    assert SECRET not in message
    assert SECRET not in repr(refused.value)


def test_an_unknown_database_is_a_configuration_error_naming_it() -> None:
    params = server_dsn("pyworkflow_no_such_database")
    DATABASE.dsn()  # skips (or fails in CI) where there is no server
    with pytest.raises(BackendConfigurationError) as refused:
        PostgresBackend(params + f" password={SECRET}")
    message = str(refused.value)
    assert "pyworkflow_no_such_database" in message
    assert "does not exist" in message
    assert SECRET not in message


def test_an_unknown_user_is_a_configuration_error() -> None:
    DATABASE.dsn()  # skips (or fails in CI) where there is no server
    params = conninfo_to_dict(server_dsn())
    params.update(user="pyworkflow_no_such_user", password=SECRET)
    with pytest.raises(BackendConfigurationError, match="no such user") as refused:
        PostgresBackend(make_conninfo(**params))
    assert "pyworkflow_no_such_user@" in str(refused.value)
    assert SECRET not in str(refused.value)


def test_a_malformed_dsn_is_refused_without_echoing_it() -> None:
    with pytest.raises(BackendConfigurationError) as refused:
        PostgresBackend(f"host=db password={SECRET} 'unterminated")
    assert SECRET not in str(refused.value)


def test_repr_shows_where_but_not_the_password(dsn) -> None:
    backend = PostgresBackend(dsn + f" password={SECRET}", schema=None)
    try:
        assert SECRET not in repr(backend)
        assert DATABASE.name is not None and DATABASE.name in repr(backend)
    finally:
        backend.close()
        # schema=None used the database's default schema: leave it empty again.
        with DATABASE.admin() as admin:
            for table in ("pyworkflow_schema", "runs", "events", "activities", "timers"):
                admin.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def test_a_closed_store_says_so(backends) -> None:
    backend = backends()
    backend.close()
    with pytest.raises(BackendError, match="closed"):
        backend.processes()


# -- many stores on one database -----------------------------------------------------------------


def test_an_idle_store_hears_another_commit(backends) -> None:
    waiting, writing = backends(), backends()
    writer = Manager(writing, workflows=ALL_WORKFLOWS)
    waiting.store.wait_for_change(0)  # starts listening; reports the start as news
    heard: list[bool] = []
    ready = threading.Event()

    def wait() -> None:
        waiting.processes()  # what this thread has seen
        ready.set()
        heard.append(waiting.store.wait_for_change(120))

    thread = threading.Thread(target=wait)
    thread.start()
    ready.wait(60)
    start(writer)
    thread.join(120)
    assert heard == [True]


def test_an_idle_worker_wakes_only_for_its_own_task_list(backends) -> None:
    """A start gives the decision list work, not the activity list; the decision that
    schedules an activity gives the activity list work."""
    waiting, writing = backends(), backends()
    writer = Manager(writing, workflows=ALL_WORKFLOWS)
    decisions, activities = ("decision", "default"), ("activity", "default")
    heard: list[bool] = []
    looked = threading.Event()

    def wait_for_activities() -> None:
        waiting.store.wait_for_change(0, activities)  # a first look is news: now seen
        looked.set()
        heard.append(waiting.store.wait_for_change(120, activities))

    waiting.store.wait_for_change(0, decisions)  # listening, and the start of it seen
    thread = threading.Thread(target=wait_for_activities)
    thread.start()
    looked.wait(60)
    process_id = start(writer)
    # Notifications are counted in the order they were sent: once the start is
    # heard on the decision list, the activity list has had its chance to wake.
    assert waiting.store.wait_for_change(60, decisions) is True
    assert heard == []
    decide(writer, ScheduleActivity(EchoActivity, id="e", input=1), process_id=process_id)
    thread.join(120)
    assert heard == [True]


def _notifications(listener: psycopg.Connection) -> list[str]:
    """The payloads heard so far: a round trip first, so all sent are in."""
    listener.execute("SELECT 1")
    return [notice.payload for notice in listener.notifies(timeout=0.2, stop_after=100)]


def test_only_writes_that_give_work_or_close_a_run_notify(backends, dsn, schema) -> None:
    """Claims and heartbeats wake nobody; a closing says so, for `process wait`."""
    writing = backends()
    manager = Manager(writing, workflows=ALL_WORKFLOWS)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(writing.store.channel)))
        heard = []
        process_id = start(manager)
        heard.append(("start", _notifications(listener)))
        task = take_decision(manager, process_id)
        heard.append(("claim decision", _notifications(listener)))
        manager.complete_task(task, [ScheduleActivity(EchoActivity, id="e", input=1)])
        heard.append(("schedule activity", _notifications(listener)))
        activity = take_activity(manager)
        heard.append(("claim activity", _notifications(listener)))
        writing.heartbeat_activity_task(activity)
        heard.append(("heartbeat", _notifications(listener)))
        manager.complete_task(activity, 1)
        heard.append(("complete activity", _notifications(listener)))
        decide(manager, CompleteProcess(1), process_id=process_id)
        heard.append(("complete process", _notifications(listener)))
    assert heard == [
        ("start", ["decision:default"]),
        ("claim decision", []),
        ("schedule activity", ["activity:default"]),
        ("claim activity", []),
        ("heartbeat", []),
        ("complete activity", ["decision:default"]),
        ("complete process", ["closed:runs"]),
    ]


def test_only_claims_commit_without_waiting_for_the_flush(
    backends, dsn, schema, monkeypatch
) -> None:
    """A claim lost with a crashed server is a task offered again, as if its worker
    had crashed; a start, a report or a heartbeat that was answered must stay."""
    # The tests' connections commit without the flush throughout, for speed: not this one.
    writing = PostgresBackend(make_conninfo(dsn, options="-c synchronous_commit=on"), schema=schema)
    manager = Manager(writing, workflows=ALL_WORKFLOWS)
    commits: list[list[str]] = []
    exchange = Pipeline._exchange

    def noted(pipeline: Pipeline, statements: Sequence[tuple[str, Any]]) -> list[Any]:
        if statements and statements[-1][0] == "COMMIT":
            commits.append([query for query, _ in statements])
        return exchange(pipeline, statements)

    monkeypatch.setattr(Pipeline, "_exchange", noted)
    unflushed = []

    def note(call: str) -> None:
        unflushed.append((call, any(NOT_FLUSHED in each for each in commits)))
        commits.clear()

    process_id = start(manager)
    note("start")
    task = take_decision(manager, process_id)
    note("claim decision")
    manager.complete_task(task, [ScheduleActivity(EchoActivity, id="e", input=1)])
    note("complete decision")
    activity = take_activity(manager)
    note("claim activity")
    writing.heartbeat_activity_task(activity)
    note("heartbeat")
    manager.complete_task(activity, 1)
    note("complete activity")
    assert manager.next_activity() is None
    note("poll that finds nothing")
    assert unflushed == [
        ("start", False),
        ("claim decision", True),
        ("complete decision", False),
        ("claim activity", True),
        ("heartbeat", False),
        ("complete activity", False),
        ("poll that finds nothing", False),  # wrote nothing: nothing to flush
    ]
    # Committed all the same, and only for the transaction that asked.
    history = Manager(backends(), workflows=ALL_WORKFLOWS).process_by_id(process_id).history
    assert [type(event).__name__ for event in history].count("ActivityStartedEvent") == 1
    (setting,) = writing.store._connection().execute("SHOW synchronous_commit").fetchone()
    writing.close()
    assert setting == "on"


def test_a_call_sends_its_first_read_with_the_servers_time(backends, monkeypatch) -> None:
    """Each call's first round trip reads the server's time: the run, activity or
    task the call reads first goes with it, one round trip fewer per call."""
    backend = backends()
    manager = Manager(backend, workflows=ALL_WORKFLOWS)
    trips = [0]
    exchange = Pipeline._exchange

    def counted(pipeline: Pipeline, statements: Sequence[tuple[str, Any]]) -> list[Any]:
        trips[0] += 1
        return exchange(pipeline, statements)

    monkeypatch.setattr(Pipeline, "_exchange", counted)
    calls = []

    def trip(call: str, work: Callable[[], Any]) -> Any:
        trips[0] = 0
        answer = work()
        calls.append((call, trips[0]))
        return answer

    process_id = start(manager)
    task = trip("claim decision", manager.next_decision)
    assert task is not None and task.process.id == process_id
    schedule = [ScheduleActivity(EchoActivity, id="e", input=1)]
    trip("complete decision", lambda: manager.complete_task(task, schedule))
    activity = trip("claim activity", manager.next_activity)
    trip("heartbeat", lambda: backend.heartbeat_activity_task(activity))
    trip("complete activity", lambda: manager.complete_task(activity, 1))
    trip("poll that finds nothing", manager.next_activity)
    assert calls == [
        ("claim decision", 3),  # time and claim; the history; the writes and COMMIT
        ("complete decision", 3),  # time and run; the activity id's check; writes, COMMIT
        ("claim activity", 2),
        ("heartbeat", 2),
        ("complete activity", 2),
        ("poll that finds nothing", 2),
    ]


class ShortLivedWorkflow(Workflow):
    timeout = 0.3

    def decide(self, process: Process) -> Any:
        return []


def test_a_task_read_early_is_not_claimed_once_the_sweep_closed_its_run(backends) -> None:
    """A claim's first read goes before the sweep of deadlines due: when the sweep
    wrote, what it read then may be gone, and is asked again."""
    manager = Manager(backends(), workflows=[ShortLivedWorkflow])
    process_id = start(manager, workflow=ShortLivedWorkflow)
    time.sleep(0.5)  # past the process's timeout, with nobody looking
    assert manager.next_decision() is None
    process = manager.process_by_id(process_id)
    assert process.status == "timed_out"
    assert [type(e).__name__ for e in process.history].count("ProcessTimedOutEvent") == 1


def test_a_watcher_of_closings_sleeps_through_other_writes(backends) -> None:
    waiting, writing = backends(), backends()
    writer = Manager(writing, workflows=ALL_WORKFLOWS)
    waiting.store.wait_for_change(0, RUNS_CLOSED)  # listening, and the start of it seen
    process_id = start(writer)
    decide(writer, ScheduleActivity(EchoActivity, id="e", input=1), process_id=process_id)
    assert waiting.store.wait_for_change(0.5, RUNS_CLOSED) is False
    writer.complete_task(take_activity(writer), 1)
    decide(writer, CompleteProcess(2), process_id=process_id)
    assert waiting.store.wait_for_change(60, RUNS_CLOSED) is True


def test_reads_keep_the_statements_they_prepared(backends) -> None:
    """A snapshot ends with COMMIT: a ROLLBACK would make psycopg forget every
    statement it prepared on the connection, and the server plan each read again."""
    backend = backends()
    manager = Manager(backend, workflows=ALL_WORKFLOWS)
    process_id = start(manager)
    for _ in range(10):
        manager.process_by_id(process_id)
    connection = backend.store._connection()
    (prepared,) = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared >= 2  # at least the run's and the history's reads


def test_a_held_write_that_fails_fails_its_call_and_leaves_nothing(backends, dsn, schema) -> None:
    """Writes go to the server with the next read or the COMMIT: one refused there
    still undoes the call whole."""
    backend = backends()
    manager = Manager(backend, workflows=ALL_WORKFLOWS)
    process_id = start(manager)
    query(dsn, schema, "ALTER TABLE activities ADD CONSTRAINT no_e CHECK (activity_id <> 'e')")
    task = take_decision(manager, process_id)
    events_before = query(dsn, schema, "SELECT count(*) FROM events")
    with pytest.raises(BackendError):
        manager.complete_task(task, [ScheduleActivity(EchoActivity, id="e", input=1)])
    assert query(dsn, schema, "SELECT count(*) FROM events") == events_before
    assert query(dsn, schema, "SELECT count(*) FROM activities") == [(0,)]
    assert manager.process_by_id(process_id).is_open


def test_signals_racing_decision_completions_are_never_lost(backends) -> None:
    """Each signal lands in the history exactly once, and each gets a decider to see it."""
    managers = [Manager(backends(), workflows=ALL_WORKFLOWS) for _ in range(4)]
    process_id = start(managers[0])
    signals = 60
    done: list[int] = []

    def signaller(index: int) -> None:
        try:
            for number in range(signals):
                ping = Signal("ping", {"from": index, "n": number})
                managers[index].signal_process(process_id, ping)
        finally:
            done.append(index)

    def decider(index: int) -> None:
        manager = managers[2 + index]
        finished = False
        while True:
            task = manager.next_decision()
            if task is None:
                if finished:
                    break
                # Once both signallers are done, one more look for what they left.
                finished = len(done) == 2
                continue
            manager.complete_task(task, [])

    run_threads(4, lambda index: (signaller if index < 2 else decider)(index % 2))
    process = managers[0].process_by_id(process_id)
    received = Counter(
        (event.signal.data["from"], event.signal.data["n"])
        for event in process.history
        if event.type == "signal"
    )
    assert set(received.values()) == {1}
    assert len(received) == 2 * signals
    # Nothing was left unseen: the last signal is followed by a decision, or one is offered.
    last_signal = max(i for i, e in enumerate(process.history) if e.type == "signal")
    seen = any(e.type == "decision_started" for e in process.history[last_signal:])
    assert seen or managers[0].next_decision() is not None


def test_stores_sweeping_at_once_expire_each_deadline_once(backends) -> None:
    clock = ManualClock()
    managers = [Manager(backends(clock), workflows=ALL_WORKFLOWS) for _ in range(4)]
    count = 40
    for index in range(count):
        process_id = start(managers[0], id=f"sweep-{index}")
        decide(
            managers[0],
            ScheduleActivity(TimeoutsActivity, id="slow"),
            Timer(5, id="t"),
            process_id=process_id,
        )
    clock.advance(3600)  # every activity deadline and every timer has passed
    run_threads(4, lambda index: managers[index].next_activity())
    for index in range(count):
        history = managers[0].process_by_id(f"sweep-{index}").history
        kinds = Counter(event.type for event in history)
        assert kinds["activity"] == 1, history
        assert kinds["timer"] == 1, history


def test_racing_cancels_and_completions_close_a_process_once(backends) -> None:
    managers = [Manager(backends(), workflows=ALL_WORKFLOWS) for _ in range(3)]
    count = 30
    ids = [start(managers[0], id=f"race-{index}") for index in range(count)]
    for process_id in ids:
        decide(managers[0], ScheduleActivity(EchoActivity, id="e", input=1), process_id=process_id)

    def canceller(index: int) -> None:
        for process_id in ids:
            with contextlib.suppress(ProcessClosedException):
                managers[0].cancel_process(process_id)

    def runner(index: int) -> None:
        manager = managers[1 + index]
        while (task := manager.next_activity()) is not None:
            # Refused if the process was canceled under it, as it should be.
            with contextlib.suppress(UnknownActivityException):
                manager.complete_task(task, task.activity_execution.input)

    run_threads(3, lambda index: canceller(index) if index == 2 else runner(index))
    for process_id in ids:
        process = managers[0].process_by_id(process_id)
        assert process.status == "canceled"
        closing = [event for event in process.history if event.type == "decision"]
        assert len(closing) == 2  # the schedule, then the cancel; nothing after it


# -- transactions --------------------------------------------------------------------------------


def test_a_failure_inside_a_transaction_rolls_everything_back(backends) -> None:
    manager = Manager(backends(), workflows=ALL_WORKFLOWS)
    process_id = start(manager)
    backend = manager.backend

    def work(tx) -> None:
        run = tx.get_open_run(process_id)
        assert run is not None
        tx.append_events(run, [SignalEvent(Signal("lost"))])
        run.status = "failed"
        tx.update_process(run)
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        backend.store.run(work)
    process = manager.process_by_id(process_id)
    assert process.is_open
    assert all(event.type != "signal" for event in process.history)


def test_a_unit_aborted_for_a_conflict_is_run_again_from_the_start(backends) -> None:
    store = backends().store
    calls: list[int] = []

    def work(tx) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConflictError("deadlock detected")
        return "done"

    assert store.run(work) == "done"
    assert len(calls) == 3


def test_a_unit_that_keeps_conflicting_gives_up_with_the_error(backends) -> None:
    store = backends().store
    calls: list[int] = []

    def work(tx) -> None:
        calls.append(1)
        raise ConflictError("deadlock detected")

    with pytest.raises(ConflictError):
        store.run(work)
    assert len(calls) == ATTEMPTS


# -- one clock -------------------------------------------------------------------------------


class QuickHeartbeat(EchoActivity):
    name = "QuickHeartbeat"
    heartbeat_timeout = 3
    execution_timeout = 30


class HeartbeatFlow(ManualWorkflow):
    name = "HeartbeatFlow"
    activities = [QuickHeartbeat]


def test_machines_whose_clocks_differ_agree_on_deadlines(backends) -> None:
    """The rules take time from the server: a worker whose own clock runs 10 s ahead
    of a client's, against a 3 s heartbeat timeout, times nothing out."""
    from datetime import timedelta

    from pyworkflow.clock import utcnow

    client = Manager(backends(), workflows=[HeartbeatFlow])
    ahead = backends()
    ahead.clock = lambda: utcnow() + timedelta(seconds=10)  # that machine's clock
    behind = backends()
    behind.clock = lambda: utcnow() - timedelta(seconds=10)
    fast, slow = Manager(ahead, [HeartbeatFlow]), Manager(behind, [HeartbeatFlow])
    ids = [start(client, workflow=HeartbeatFlow) for _ in range(5)]
    for process_id in ids:
        decide(fast, ScheduleActivity(QuickHeartbeat, id="beat"), process_id=process_id)
    for _ in ids:
        task = slow.next_activity()
        assert task is not None
        assert slow.heartbeat(task) is False
        fast.process_by_id(task.process_id)  # a read on the fast machine expires nothing
        slow.complete_task(task, "done")
    for process_id in ids:
        history = client.process_by_id(process_id).history
        results = [event.result for event in history if event.type == "activity"]
        assert [result.type for result in results] == ["completed"]


def test_event_times_come_from_the_server(backends) -> None:
    from datetime import timedelta

    from pyworkflow.clock import utcnow

    skewed = backends()
    skewed.clock = lambda: utcnow() + timedelta(hours=1)
    manager = Manager(skewed, workflows=ALL_WORKFLOWS)
    before = utcnow()
    process_id = start(manager)
    started = manager.process_by_id(process_id).history[0].datetime
    assert before - timedelta(minutes=5) < started < before + timedelta(minutes=5)


def test_an_injected_clock_still_wins(backends) -> None:
    clock = ManualClock()
    manager = Manager(backends(clock=clock), workflows=ALL_WORKFLOWS)
    process_id = start(manager)
    assert manager.process_by_id(process_id).history[0].datetime == clock()


def test_a_watched_process_is_never_skipped_by_a_claim(backends) -> None:
    """A read holds its snapshot open on one machine while a worker on another
    claims the run's decision: reads lock nothing, so the claim finds the task."""
    watcher = backends()
    worker = Manager(backends(), workflows=ALL_WORKFLOWS)
    process_id = start(worker)
    reading, claimed = threading.Event(), threading.Event()

    def watch(tx) -> None:
        run = tx.get_latest_run(process_id)
        assert run is not None
        tx.history(run.run_id)
        reading.set()
        assert claimed.wait(10)

    reader = threading.Thread(target=watcher.store.read, args=(watch,))
    reader.start()
    assert reading.wait(10)
    task = worker.next_decision()
    claimed.set()
    reader.join(10)
    assert task is not None and task.process.id == process_id
