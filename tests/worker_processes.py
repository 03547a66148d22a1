"""Workflows for the multi-process tests, and a worker process that runs them.

Run as ``python -m tests.worker_processes STORE KIND`` with the repository on
PYTHONPATH; STORE is a JSON object naming the backend (see ``backend_for``), KIND
is ``activity`` or ``decision``. SIGTERM stops it gracefully.
Every activity attempt appends one line to ``LOG_DIR/<pid>.log`` before it
returns, so a test can prove no attempt ran twice; a hanging step first writes
``LOG_DIR/<name>.hanging`` so a test knows when to kill its worker.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from pyworkflow.activity import Activity, ActivityCompleted, ActivityTimedOut
from pyworkflow.backend.base import Backend
from pyworkflow.decision import CompleteProcess, FailProcess, ScheduleActivity
from pyworkflow.manager import Manager
from pyworkflow.process import Process
from pyworkflow.worker import ActivityWorker, DecisionWorker, Worker
from pyworkflow.workflow import Workflow

LOG_DIR = Path(os.environ.get("PYWORKFLOW_TEST_LOG_DIR", "."))


def record_attempt(activity: Activity) -> None:
    task = activity.task
    line = f"{task.process_id} {task.activity_execution.id} {task.attempt}\n"
    # One short O_APPEND write per attempt, to a file only this process writes.
    with open(LOG_DIR / f"{os.getpid()}.log", "a") as log:
        log.write(line)


def hang(name: str) -> None:
    (LOG_DIR / f"{name}.hanging").write_text(str(os.getpid()))
    time.sleep(3600)


class StepActivity(Activity):
    """Adds one to its input; the 2,000-process test runs two of these per process."""

    scheduled_timeout = 600
    execution_timeout = 600

    def execute(self) -> Any:
        record_attempt(self)
        return self.input + 1


class PairWorkflow(Workflow):
    """Two steps in sequence: 0 -> 1 -> 2."""

    activities = [StepActivity]
    decision_timeout = 60

    def decide(self, process: Process) -> Any:
        results = [event.result for event in process.history if event.type == "activity"]
        if not results:
            return ScheduleActivity(StepActivity, id="first", input=0)
        last = results[-1]
        if not isinstance(last, ActivityCompleted):
            return FailProcess(reason=repr(last))
        if len(results) == 1:
            return ScheduleActivity(StepActivity, id="second", input=last.result)
        return CompleteProcess(last.result)


class StuckActivity(Activity):
    """Hangs on its first attempt (until its worker is killed); finishes on a retry."""

    scheduled_timeout = 600
    execution_timeout = 1.5

    def execute(self) -> Any:
        record_attempt(self)
        if self.input == "hang":
            hang("activity")
        return "done"


class RetryWorkflow(Workflow):
    """Runs StuckActivity; after a timeout, runs it again without the hang."""

    activities = [StuckActivity]
    decision_timeout = 60

    def decide(self, process: Process) -> Any:
        results = [event.result for event in process.history if event.type == "activity"]
        if not results:
            return ScheduleActivity(StuckActivity, id="try-1", input="hang")
        last = results[-1]
        if isinstance(last, ActivityTimedOut):
            return ScheduleActivity(StuckActivity, id=f"try-{len(results) + 1}", input="finish")
        if isinstance(last, ActivityCompleted):
            return CompleteProcess(last.result)
        return FailProcess(reason=repr(last))


class StallWorkflow(Workflow):
    """Its decider hangs until a decision of it has timed out, then completes."""

    decision_timeout = 1

    def decide(self, process: Process) -> Any:
        if not any(event.type == "decision_timed_out" for event in process.history):
            hang("decision")
        return CompleteProcess("decided after a timeout")


class BriefActivity(Activity):
    """A few milliseconds of work, so that a kill often lands in the middle of one."""

    scheduled_timeout = 600
    execution_timeout = 1

    def execute(self) -> Any:
        record_attempt(self)
        time.sleep(0.005)
        return self.input + 1


class ResilientPairWorkflow(Workflow):
    """Two steps in sequence; a step that timed out is scheduled again under a new id."""

    activities = [BriefActivity]
    decision_timeout = 1

    def decide(self, process: Process) -> Any:
        outcomes = [event.result for event in process.history if event.type == "activity"]
        done = [result for result in outcomes if isinstance(result, ActivityCompleted)]
        if any(
            not isinstance(result, (ActivityCompleted, ActivityTimedOut)) for result in outcomes
        ):
            return FailProcess(reason=repr(outcomes))
        if len(done) == 2:
            return CompleteProcess(done[-1].result)
        step = "second" if done else "first"
        value = done[-1].result if done else 0
        return ScheduleActivity(BriefActivity, id=f"{step}-{len(outcomes) + 1}", input=value)


WORKFLOWS = [PairWorkflow, RetryWorkflow, StallWorkflow, ResilientPairWorkflow]


def backend_for(store: dict[str, str]) -> Backend:
    """``{"type": "sqlite", "path": ...}`` or ``{"type": "postgres", "dsn": ..., "schema": ...}``"""
    if store["type"] == "sqlite":
        from pyworkflow.backend.sqlite import SQLiteBackend

        return SQLiteBackend(store["path"])
    if store["type"] == "postgres":
        from pyworkflow.backend.postgres import PostgresBackend

        return PostgresBackend(store["dsn"], schema=store.get("schema"))
    raise ValueError(f"unknown store type {store['type']!r}")


def manager_for(store: dict[str, str]) -> Manager:
    return Manager(backend_for(store), workflows=WORKFLOWS)


def main(argv: list[str]) -> int:
    store, kind = json.loads(argv[0]), argv[1]
    manager = manager_for(store)
    worker: Worker
    if kind == "activity":
        worker = ActivityWorker(manager, max_idle_wait=0.2)
    elif kind == "decision":
        worker = DecisionWorker(manager, max_idle_wait=0.2)
    else:
        raise SystemExit(f"unknown worker kind {kind!r}")
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    print("ready", flush=True)
    worker.run()
    manager.backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
