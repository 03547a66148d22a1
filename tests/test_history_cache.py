"""A decision worker's kept histories equal a fresh read, whoever decided in between."""

from __future__ import annotations

from pyworkflow.decision import RecordMarker
from pyworkflow.engine import Engine
from pyworkflow.engine._histories import HistoryCache
from pyworkflow.manager import Manager
from pyworkflow.signal import Signal

from .support import ALL_WORKFLOWS, start


def test_kept_histories_equal_a_fresh_read_after_interleaved_decisions(backend_factory, clock):
    backend = backend_factory(clock)
    engine = getattr(backend, "parent", backend)  # under Blinker, the engine it wraps
    # Two workers on one store, each keeping the histories it read.
    first = Manager(backend, ALL_WORKFLOWS)
    second = Manager(Engine(engine.store, clock=clock), ALL_WORKFLOWS)
    process_id = start(first)
    for turn in range(6):
        manager = first if turn % 2 == 0 else second
        first.signal_process(process_id, Signal("tick", turn))
        task = manager.next_decision()
        assert task is not None
        fresh = manager.process_by_id(process_id).history
        assert task.process.history == fresh
        assert [e.datetime for e in task.process.history] == [e.datetime for e in fresh]
        manager.complete_task(task, [RecordMarker("turn", turn)])


def test_the_cache_keeps_only_committed_events_and_is_bounded():
    cache = HistoryCache(max_runs=2)
    reads: list[int] = []

    def read_after(events):
        def read(after: int):
            reads.append(after)
            return list(events[after:])

        return read

    assert cache.history("a", read_after([1, 2, 3]), uncommitted=1) == [1, 2, 3]
    assert cache.history("a", read_after([1, 2, 9, 4])) == [1, 2, 9, 4]  # 3 never committed
    assert reads == [0, 2]
    cache.history("b", read_after([5]))
    cache.history("c", read_after([6]))
    reads.clear()
    cache.history("a", read_after([1, 2, 9, 4]))
    assert reads == [0]  # "a" was the least recently used, and went
