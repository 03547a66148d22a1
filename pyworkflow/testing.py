"""Helpers for testing workflows: drive a manager to quiescence in the calling thread.

Deterministic and sleep-free: pair with :class:`pyworkflow.clock.ManualClock` to
step through timeouts and timers. :func:`replay` checks changed decider code
against recorded histories.
"""

from __future__ import annotations

from .clock import ManualClock
from .manager import Manager
from .process import Process
from .replay import ReplayMismatch, replay
from .worker import ActivityWorker, DecisionWorker

__all__ = ["ManualClock", "ReplayMismatch", "replay", "run_until_idle", "run_process"]


def run_until_idle(
    manager: Manager,
    categories: tuple[str, ...] = ("default",),
    max_steps: int = 10_000,
) -> int:
    """Run decisions and activities until no task is left; return how many ran."""
    workers = [
        worker
        for category in categories
        for worker in (
            DecisionWorker(manager, category=category),
            ActivityWorker(manager, category=category),
        )
    ]
    steps = 0
    while steps < max_steps:
        progressed = False
        for worker in workers:
            if worker.step():
                steps += 1
                progressed = True
        if not progressed:
            return steps
    raise RuntimeError(f"still busy after {max_steps} tasks; is a workflow looping?")


def run_process(
    manager: Manager, process: Process, categories: tuple[str, ...] = ("default",)
) -> Process:
    """Start ``process``, run it as far as it goes without time passing, return it."""
    process_id = manager.start_process(process)
    run_until_idle(manager, categories)
    return manager.process_by_id(process_id)
