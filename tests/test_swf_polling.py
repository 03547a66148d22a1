"""The SWF backend's background long polls: every task a poll brings in reaches a
worker exactly once, however often workers ask while a poll is out."""

from __future__ import annotations

import threading

from pyworkflow.backend.swf.polling import Arrivals, LongPoller


class TaskSource:
    """Hands out numbered tasks; each poll blocks until the test lets it return."""

    def __init__(self) -> None:
        self.next = 0
        self.release = threading.Semaphore(0)
        self.polled = threading.Semaphore(0)

    def poll(self) -> int:
        self.polled.release()
        self.release.acquire()
        self.next += 1
        return self.next


def test_asking_again_while_a_poll_is_out_loses_no_task() -> None:
    source = TaskSource()
    arrived = threading.Condition()
    arrivals = Arrivals()
    poller: LongPoller[int] = LongPoller(source.poll, arrived, "test-poll", arrivals)
    try:
        assert poller.take() is None  # starts the first poll
        assert source.polled.acquire(timeout=5)
        assert poller.take() is None  # a worker asks again while that poll is out
        source.release.release()
        with arrived:
            assert arrived.wait_for(lambda: poller.ready, timeout=5)
        # A second poll must not start while task 1 is held: it would replace it.
        assert not source.polled.acquire(timeout=0.2)
        assert poller.take() == 1
        assert source.polled.acquire(timeout=5)
        source.release.release()
        with arrived:
            assert arrived.wait_for(lambda: poller.ready, timeout=5)
        assert poller.take() == 2
        assert arrivals.count == 2
    finally:
        poller.close()
        source.release.release()
