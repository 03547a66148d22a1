"""An idle worker's wait asks the store for its earliest deadline once, not on
every slice of the wait, and again as soon as anything was written."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pyworkflow.engine import Engine
from pyworkflow.engine._next_deadline import NextDeadline

from .support import start

MOMENT = datetime(2026, 1, 1, tzinfo=timezone.utc)


class CountingRead:
    def __init__(self, answer: datetime | None = MOMENT) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self) -> datetime | None:
        self.calls += 1
        return self.answer


def test_the_deadline_is_kept_until_forgotten() -> None:
    read = CountingRead()
    deadline = NextDeadline(read, refresh=3600)
    assert [deadline.get() for _ in range(5)] == [MOMENT] * 5
    assert read.calls == 1
    read.answer = None
    deadline.forget()
    assert deadline.get() is None
    assert read.calls == 2


def test_an_answer_read_across_a_write_is_not_kept() -> None:
    """Another thread wrote while the store was being asked: the answer may come
    from before that write, so the next ``get`` asks again."""
    deadline: NextDeadline

    def read_while_another_writes() -> datetime | None:
        deadline.forget()
        return MOMENT

    deadline = NextDeadline(read_while_another_writes, refresh=3600)
    calls = CountingRead()
    assert deadline.get() == MOMENT
    deadline._read = calls
    assert deadline.get() == MOMENT
    assert calls.calls == 1


def test_the_deadline_is_asked_again_once_it_is_older_than_refresh() -> None:
    read = CountingRead()
    deadline = NextDeadline(read, refresh=0.0)
    deadline.get()
    deadline.get()
    assert read.calls == 2


def test_an_idle_wait_asks_once_and_a_write_makes_it_ask_again(manager, backend) -> None:
    if not isinstance(backend, Engine):
        pytest.skip("only the engine's backends keep a store's deadline")
    read = CountingRead(None)
    backend._next_deadline = NextDeadline(read, refresh=3600)
    # A first look may count as news (PostgreSQL's store has heard nothing yet).
    while backend.wait_for_work(0.001):
        pass
    asked = read.calls
    for _ in range(5):
        assert backend.wait_for_work(0.001) is False
    assert read.calls == asked
    start(manager)
    backend.wait_for_work(0.001)
    assert read.calls == asked + 1
