"""Real threads racing for the same work: each task goes to exactly one of them."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from pyworkflow.decision import ScheduleActivity, SignalProcess
from pyworkflow.exceptions import ProcessAlreadyOpenException

from .support import EchoActivity, decide, start

DECISIONS = 200


def run_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive()


@pytest.mark.needs("signal_external")
def test_racing_deciders_never_both_hold_a_decision_task_for_one_process(manager):
    process_id = start(manager)
    lock = threading.Lock()
    holders: set[int] = set()
    overlaps: list[tuple[int, set[int]]] = []
    errors: list[BaseException] = []
    handled = Counter[int]()

    def decider(me: int) -> None:
        try:
            while sum(handled.values()) < DECISIONS:
                task = manager.next_decision(identity=f"decider-{me}")
                if task is None:
                    continue
                with lock:
                    if holders:
                        overlaps.append((me, set(holders)))
                    holders.add(me)
                handled[me] += 1
                time.sleep(0)  # hold the task a moment: let the other thread try its luck
                with lock:
                    holders.discard(me)
                # signal itself: the next decision task is due at once, for either thread
                manager.complete_task(task, SignalProcess(process_id, "again"))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    run_threads(2, decider)
    assert errors == []
    assert overlaps == []
    total = sum(handled.values())
    assert total >= DECISIONS

    history = manager.process_by_id(process_id).history
    kinds = [event.type for event in history]
    assert kinds.count("decision_started") == total
    # every decision_started is closed by its own decision before the next one starts
    starts = [index for index, kind in enumerate(kinds) if kind == "decision_started"]
    for begin, end in zip(starts, starts[1:] + [len(kinds)], strict=True):
        assert kinds[begin + 1 : end] == ["decision", "signal"]


def test_racing_activity_workers_each_get_distinct_tasks(manager):
    process_id = start(manager)
    count = 60
    decide(manager, *[ScheduleActivity(EchoActivity, id=f"a{n}", input=n) for n in range(count)])
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(me: int) -> None:
        while True:
            task = manager.next_activity(identity=f"worker-{me}")
            if task is None:
                return
            with lock:
                claimed.append(task.activity_execution.id)
            manager.complete_task(task, task.activity_execution.input)

    run_threads(4, worker)
    assert sorted(claimed) == sorted(f"a{n}" for n in range(count))
    history = manager.process_by_id(process_id).history
    results = [event.activity_execution.id for event in history if event.type == "activity"]
    assert Counter(results) == Counter(claimed)
    assert manager.next_decision() is not None
    assert manager.next_decision() is None


def test_racing_starts_with_one_chosen_id_open_exactly_one_process(manager):
    outcomes: list[str] = []
    lock = threading.Lock()

    def starter(me: int) -> None:
        try:
            start(manager, id="only-one", input=me)
            outcome = "started"
        except ProcessAlreadyOpenException:
            outcome = "refused"
        with lock:
            outcomes.append(outcome)

    run_threads(8, starter)
    assert sorted(outcomes) == ["refused"] * 7 + ["started"]
    assert [process.id for process in manager.processes(status="all")] == ["only-one"]
