"""A Backend that applies the engine's rules over a store: the base of memory, SQLite
and PostgreSQL, which differ only in the store they hand it."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from .._duration import as_duration
from ..activity import ActivityResult
from ..clock import Clock, utcnow
from ..decision import Decision
from ..defaults import Defaults
from ..engine import ActivityType, Engine, Registry, Store, WorkflowType
from ..process import Process
from ..task import ActivityTask, DecisionTask
from .base import Backend

# Processes forgotten per transaction: short enough never to hold SQLite's write
# lock for long, large enough that purging keeps up with any steady load.
PURGE_BATCH = 100


class EngineBackend(Backend):
    def __init__(
        self, store: Store, clock: Clock = utcnow, retention: timedelta | str | None = None
    ) -> None:
        self.retention = as_duration(retention)
        self.store = store
        self.clock = clock
        self.registry = Registry()
        self.engine = Engine(store, self.registry, clock)

    def register_workflow(
        self,
        name: str,
        category: str = Defaults.DECISION_CATEGORY,
        timeout: float = Defaults.WORKFLOW_TIMEOUT,
        decision_timeout: float = Defaults.DECISION_TIMEOUT,
    ) -> None:
        self.registry.workflows[name] = WorkflowType(name, category, timeout, decision_timeout)

    def register_activity(
        self,
        name: str,
        category: str = Defaults.ACTIVITY_CATEGORY,
        scheduled_timeout: float = Defaults.ACTIVITY_SCHEDULED_TIMEOUT,
        execution_timeout: float = Defaults.ACTIVITY_EXECUTION_TIMEOUT,
        heartbeat_timeout: float = Defaults.ACTIVITY_HEARTBEAT_TIMEOUT,
    ) -> None:
        self.registry.activities[name] = ActivityType(
            name, category, scheduled_timeout, execution_timeout, heartbeat_timeout
        )

    def start_process(self, process: Process) -> str:
        return self.engine.start_process(process)

    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None:
        self.engine.signal_process(process_id, signal_name, data)

    def cancel_process(self, process_id: str, details: Any = None) -> None:
        self.engine.cancel_process(process_id, details)

    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        self.engine.request_cancel_process(process_id, details)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        self.engine.terminate_process(process_id, reason, details)

    def process_by_id(self, process_id: str) -> Process:
        return self.engine.process_by_id(process_id)

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        return self.engine.processes(workflow, tag, status)

    def poll_activity_task(
        self,
        category: str = Defaults.ACTIVITY_CATEGORY,
        identity: str | None = None,
        activities: Sequence[str] | None = None,
    ) -> ActivityTask | None:
        return self.engine.claim_activity_task(category, activities)

    def poll_decision_task(
        self,
        category: str = Defaults.DECISION_CATEGORY,
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
    ) -> DecisionTask | None:
        return self.engine.claim_decision_task(category, workflows)

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        return self.engine.heartbeat_activity_task(task)

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        self.engine.complete_activity_task(task, result)

    def complete_decision_task(self, task: DecisionTask, decisions: Sequence[Decision]) -> None:
        self.engine.complete_decision_task(task, decisions)

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        self.engine.fail_decision_task(task, reason, details)

    def purge(
        self,
        older_than: timedelta | str,
        workflow: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> int:
        age = as_duration(older_than)
        if age is None:
            raise ValueError("purge needs an age: processes closed longer ago than it go")
        if dry_run:
            return self.engine.count_purgeable(age, workflow)
        purged = 0
        while limit is None or purged < limit:
            batch = PURGE_BATCH if limit is None else min(PURGE_BATCH, limit - purged)
            done = self.engine.purge_closed(age, workflow, batch)
            purged += done
            if done < batch:
                break
        return purged

    def purge_lock(self) -> AbstractContextManager[bool]:
        return self.store.purge_lock()

    def vacuum(self) -> bool:
        return self.store.vacuum()

    def count_processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        return self.engine.count_processes(workflow, tag, status)

    def wait_for_work(self, timeout: float) -> bool:
        # A deadline already past was handled by the last poll, or is another
        # category's work: only a future one shortens the wait.
        due = self.store.next_due_at()
        now = self.clock()
        if due is not None and due > now and (due - now).total_seconds() <= timeout:
            self.store.wait_for_change((due - now).total_seconds())
            return True
        return self.store.wait_for_change(timeout) if timeout > 0 else False

    def close(self) -> None:
        self.store.close()
