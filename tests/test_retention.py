"""Retention: closed processes older than an age are purged, whole; open ones never."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from pyworkflow.activity import Activity, ActivityCompleted
from pyworkflow.decision import CompleteProcess, ScheduleActivity, StartChildProcess
from pyworkflow.events import ActivityEvent, ChildProcessEvent, DecisionEvent
from pyworkflow.exceptions import UnknownProcessException
from pyworkflow.manager import Manager
from pyworkflow.process import Process, ProcessCompleted
from pyworkflow.purging import Purger
from pyworkflow.worker import ActivityWorker, DecisionWorker, WorkerThread
from pyworkflow.workflow import Workflow

from .support import ManualWorkflow, decide, start, wait_until

STEPS = 3


def close(manager: Manager, process_id: str, result: Any = None) -> None:
    decide(manager, CompleteProcess(result), process_id=process_id)


# Every test here purges, or steers the clock purges read.
pytestmark = pytest.mark.needs("retention")


def ids(manager: Manager, status: str = "all") -> set[str]:
    return {process.id for process in manager.processes(status=status)}


def is_gone(manager: Manager, process_id: str) -> bool:
    try:
        manager.process_by_id(process_id)
    except UnknownProcessException:
        return True
    return False


@pytest.fixture
def aged(manager, clock) -> dict[str, str]:
    """An old closed process (closed 150s ago), a young one (50s ago) and an open one
    started before both."""
    made = {"open": start(manager, id="open"), "old": start(manager, id="old")}
    decide(manager, process_id="open")  # the open one has a history of its own
    close(manager, "old", "old result")
    clock.advance(100)
    made["young"] = start(manager, id="young")
    close(manager, "young")
    clock.advance(50)
    return made


def test_purge_forgets_closed_processes_older_than_the_age(manager, aged) -> None:
    assert manager.purge("120s") == 1
    assert is_gone(manager, "old")
    assert ids(manager) == {"young", "open"}
    assert ids(manager, "closed") == {"young"}
    assert manager.process_by_id("open").is_open
    assert manager.process_by_id("young").result == ProcessCompleted(None)
    assert manager.count_processes(status="all") == 2


def test_an_open_process_is_never_purged_however_old(manager, clock, aged) -> None:
    clock.advance(500)  # the open one started 650s ago; ManualWorkflow's timeout is 1000s
    assert manager.purge(timedelta(0)) == 2
    assert ids(manager) == {"open"}
    opened = manager.process_by_id("open")
    assert opened.is_open and [event.type for event in opened.history][0] == "process_started"


def test_a_dry_run_counts_and_changes_nothing(manager, aged) -> None:
    assert manager.purge("1s", dry_run=True) == 2
    assert manager.purge("120s", dry_run=True) == 1
    assert ids(manager) == {"old", "young", "open"}
    assert manager.process_by_id("old").result == ProcessCompleted("old result")


def test_purge_of_one_workflow_leaves_the_others(manager, clock) -> None:
    from .support import ShortWorkflow

    start(manager, id="manual")
    close(manager, "manual")
    start(manager, workflow=ShortWorkflow, id="short")
    close(manager, "short")
    clock.advance(10)
    assert manager.purge("1s", workflow=ShortWorkflow) == 1
    assert ids(manager) == {"manual"}


def test_a_closed_child_of_an_open_parent_goes_and_the_parent_keeps_its_result(
    manager, clock
) -> None:
    start(manager, id="parent")
    decide(manager, StartChildProcess(Process(workflow=ManualWorkflow, id="kid")))
    close(manager, "kid", {"kid": "done"})
    clock.advance(10)
    assert manager.purge("5s") == 1
    assert is_gone(manager, "kid")
    parent = manager.process_by_id("parent")
    assert parent.is_open
    [child] = [event for event in parent.history if isinstance(event, ChildProcessEvent)]
    assert (child.process_id, child.result) == ("kid", ProcessCompleted({"kid": "done"}))
    close(manager, "parent")  # the parent still decides after its child went
    assert manager.process_by_id("parent").result == ProcessCompleted(None)


def test_counts_follow_the_purge(manager, aged) -> None:
    assert manager.count_processes() == 1
    assert manager.count_processes(status="closed") == 2
    assert manager.count_processes(workflow=ManualWorkflow, status="all") == 3
    manager.purge("1s")
    assert manager.count_processes(status="closed") == 0
    assert manager.count_processes(status="all") == 1


def test_a_bad_age_is_refused_before_anything_goes(manager, aged) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        manager.purge("thirty days")
    assert ids(manager) == {"old", "young", "open"}


# -- the background purger, run by workers -------------------------------------------------


class StepActivity(Activity):
    scheduled_timeout = 10**6

    def execute(self) -> Any:
        return self.input


class StepsWorkflow(Workflow):
    """Runs STEPS activities one after another, then completes, or with input
    "stay", waits for the signal "finish"."""

    activities = [StepActivity]
    decision_timeout = 10**6

    def decide(self, process: Process) -> Any:
        done = [event for event in process.history if isinstance(event, ActivityEvent)]
        if len(done) < STEPS:
            return ScheduleActivity(StepActivity, id=f"step-{len(done)}", input=len(done))
        if process.input == "stay" and not any(
            event.type == "signal" and event.signal.name == "finish" for event in process.history
        ):
            return []
        return CompleteProcess(len(done))


def workers(manager: Manager, *hooks: Any) -> list[WorkerThread]:
    threads = [
        WorkerThread(DecisionWorker(manager, max_idle_wait=0.01, hooks=list(hooks))),
        WorkerThread(ActivityWorker(manager, max_idle_wait=0.01)),
    ]
    for thread in threads:
        thread.start()
    return threads


def stop(threads: list[WorkerThread]) -> None:
    for thread in threads:
        thread.stop()
    for thread in threads:
        thread.join(20)


def test_a_running_worker_purges_what_is_past_the_retention(backend, clock) -> None:
    manager = Manager(backend, workflows=[StepsWorkflow])
    purger = Purger(backend, retention=timedelta(minutes=1), interval=0)
    threads = workers(manager, purger)
    try:
        finished = [manager.start_process(Process(workflow=StepsWorkflow)) for _ in range(3)]
        kept = manager.start_process(Process(workflow=StepsWorkflow, input="stay"))
        wait_until(lambda: ids(manager, "closed") == set(finished))
        clock.advance(30)
        young = manager.start_process(Process(workflow=StepsWorkflow))
        wait_until(lambda: young in ids(manager, "closed"))
        clock.advance(45)  # the first three closed 75s ago, the young one 45s ago
        wait_until(lambda: all(is_gone(manager, process_id) for process_id in finished))
    finally:
        stop(threads)
    assert ids(manager) == {kept, young}
    assert manager.process_by_id(kept).is_open
    assert purger.purged == 3


def test_a_purge_during_a_running_workload_loses_no_open_process_event(backend, clock) -> None:
    manager = Manager(backend, workflows=[StepsWorkflow])
    threads = workers(manager, Purger(backend, retention=timedelta(seconds=1), interval=0))
    purging = threading.Event()
    purged: list[int] = []

    def purge_all_the_time() -> None:
        while not purging.is_set():
            clock.advance(1)
            purged.append(manager.purge("1s"))
            # Time flies, but not past the timeouts: a timed-out task is not the point.
            time.sleep(0.001)

    purger = threading.Thread(target=purge_all_the_time)
    purger.start()
    try:
        staying = [
            manager.start_process(Process(workflow=StepsWorkflow, input="stay", id=f"stay-{n}"))
            for n in range(5)
        ]
        passing = [manager.start_process(Process(workflow=StepsWorkflow)) for _ in range(20)]
        wait_until(lambda: all(is_gone(manager, process_id) for process_id in passing), 60)

        def all_steps_done() -> bool:
            return all(
                len([e for e in manager.process_by_id(p).history if e.type == "activity"]) == STEPS
                for p in staying
            )

        wait_until(all_steps_done, 60)
    finally:
        purging.set()
        purger.join(20)
        stop(threads)
    assert sum(purged) > 0
    for process_id in staying:
        process = manager.process_by_id(process_id)
        assert process.is_open
        results = [e.result for e in process.history if isinstance(e, ActivityEvent)]
        assert results == [ActivityCompleted(n) for n in range(STEPS)]
        scheduled = [
            e.decision.id
            for e in process.history
            if isinstance(e, DecisionEvent) and isinstance(e.decision, ScheduleActivity)
        ]
        assert scheduled == [f"step-{n}" for n in range(STEPS)]
    assert ids(manager, "open") == set(staying)


def test_workers_of_a_backend_with_retention_purge_of_their_own_accord(backend, clock) -> None:
    backend.retention = timedelta(minutes=1)
    manager = Manager(backend, workflows=[ManualWorkflow])
    start(manager, id="closed")
    close(manager, "closed")
    clock.advance(61)
    worker = DecisionWorker(manager, max_idle_wait=0.01)
    assert any(isinstance(hook, Purger) for hook in worker.hooks)
    worker.run(exit_when_idle=True)
    assert is_gone(manager, "closed")


def test_one_purger_at_a_time(backend) -> None:
    with backend.purge_lock() as first:
        assert first is True
        outcome: list[bool] = []

        def second() -> None:
            with backend.purge_lock() as got:
                outcome.append(got)

        other = threading.Thread(target=second)
        other.start()
        other.join(20)
        assert outcome == [False]
    with backend.purge_lock() as again:
        assert again is True


def test_every_engine_backend_takes_a_retention(tmp_path) -> None:
    from pyworkflow.backend.memory import MemoryBackend
    from pyworkflow.backend.postgres import PostgresBackend
    from pyworkflow.backend.sqlite import SQLiteBackend

    from .postgres_db import DATABASE

    schema = DATABASE.new_schema_name()
    made = [
        MemoryBackend(retention="30d"),
        SQLiteBackend(tmp_path / "kept.sqlite3", retention="30d"),
        PostgresBackend(DATABASE.dsn(), schema=schema, retention=timedelta(days=30)),
    ]
    try:
        assert [backend.retention for backend in made] == [timedelta(days=30)] * 3
        assert MemoryBackend().retention is None
        with pytest.raises(ValueError, match="not a duration"):
            MemoryBackend(retention="a month")
    finally:
        for backend in made:
            backend.close()
        DATABASE.drop_schemas([schema])
