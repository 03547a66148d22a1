"""BlinkerBackend: wraps any backend and emits a blinker signal on every runtime event.

Each signal exists twice: on the class, where a receiver hears every wrapped
backend (``BlinkerBackend.on_process_started.connect(f)``, as the 2014 API had
it), and on each instance, where it hears only that one
(``backend.on_process_started.connect(f)``). The sender is always the
BlinkerBackend instance, so class-level receivers can tell backends apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, overload

from blinker import Signal

from ..activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityResult,
    ActivityTimedOut,
)
from ..decision import (
    CancelActivity,
    CancelProcess,
    CompleteProcess,
    Decision,
    FailProcess,
    ScheduleActivity,
    StartChildProcess,
    Timer,
)
from ..process import Process
from ..task import ActivityTask, DecisionTask
from .base import Backend


class _BoundSignal:
    """An instance's signal that also fires the class-wide one."""

    def __init__(self, own: Signal, shared: Signal) -> None:
        self.own = own
        self.shared = shared

    def connect(self, receiver: Any, sender: Any = Signal.ANY, weak: bool = True) -> Any:
        return self.own.connect(receiver, sender=sender, weak=weak)

    def disconnect(self, receiver: Any, sender: Any = Signal.ANY) -> None:
        self.own.disconnect(receiver, sender=sender)

    def send(self, sender: Any, **kwargs: Any) -> None:
        self.own.send(sender, **kwargs)
        self.shared.send(sender, **kwargs)


class _SignalDescriptor:
    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.shared = Signal(name)

    @overload
    def __get__(self, instance: None, owner: type) -> Signal: ...
    @overload
    def __get__(self, instance: object, owner: type) -> _BoundSignal: ...
    def __get__(self, instance: object | None, owner: type) -> Signal | _BoundSignal:
        if instance is None:
            return self.shared
        bound = instance.__dict__.get(self.name)
        if bound is None:
            bound = _BoundSignal(Signal(self.name), self.shared)
            instance.__dict__[self.name] = bound
        return bound


class BlinkerBackend(Backend):
    on_process_started = _SignalDescriptor()
    on_process_signaled = _SignalDescriptor()
    on_process_canceled = _SignalDescriptor()
    on_process_cancel_requested = _SignalDescriptor()
    on_process_terminated = _SignalDescriptor()
    on_process_completed = _SignalDescriptor()
    on_process_failed = _SignalDescriptor()

    on_decision_started = _SignalDescriptor()
    on_complete_decision_task = _SignalDescriptor()
    on_decision_failed = _SignalDescriptor()
    on_timer_started = _SignalDescriptor()
    on_child_process_started = _SignalDescriptor()

    on_activity_scheduled = _SignalDescriptor()
    on_activity_started = _SignalDescriptor()
    on_activity_heartbeat = _SignalDescriptor()
    on_complete_activity_task = _SignalDescriptor()
    on_activity_completed = _SignalDescriptor()
    on_activity_canceled = _SignalDescriptor()
    on_activity_failed = _SignalDescriptor()
    on_activity_timedout = _SignalDescriptor()

    def __init__(self, parent: Backend) -> None:
        self.parent = parent
        self.retention = parent.retention

    # pass-through

    def register_workflow(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.parent.register_workflow(name, *args, **kwargs)

    def register_activity(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.parent.register_activity(name, *args, **kwargs)

    def process_by_id(self, process_id: str) -> Process:
        return self.parent.process_by_id(process_id)

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        return self.parent.processes(workflow=workflow, tag=tag, status=status)

    def wait_for_work(self, timeout: float) -> bool:
        return self.parent.wait_for_work(timeout)

    def purge(
        self,
        older_than: timedelta | str,
        workflow: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> int:
        return self.parent.purge(older_than, workflow, dry_run, limit)

    def purge_lock(self) -> AbstractContextManager[bool]:
        return self.parent.purge_lock()

    def vacuum(self) -> bool:
        return self.parent.vacuum()

    def count_processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        return self.parent.count_processes(workflow, tag, status)

    def close(self) -> None:
        self.parent.close()

    # processes

    def start_process(self, process: Process) -> str:
        process_id = self.parent.start_process(process)
        started = process if process.id == process_id else process.copy_with_id(process_id)
        self.on_process_started.send(self, process=started, process_id=process_id)
        return process_id

    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None:
        self.parent.signal_process(process_id, signal_name, data)
        self.on_process_signaled.send(self, process_id=process_id, signal=signal_name, data=data)

    def cancel_process(self, process_id: str, details: Any = None) -> None:
        self.parent.cancel_process(process_id, details)
        self.on_process_canceled.send(self, process_id=process_id, details=details)

    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        self.parent.request_cancel_process(process_id, details)
        self.on_process_cancel_requested.send(self, process_id=process_id, details=details)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        self.parent.terminate_process(process_id, reason, details)
        self.on_process_terminated.send(self, process_id=process_id, reason=reason, details=details)

    # decisions

    def poll_decision_task(
        self,
        category: str = "default",
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
    ) -> Any:
        task = self.parent.poll_decision_task(category, identity, workflows)
        if task is not None:
            self.on_decision_started.send(self, task=task, process_id=task.process.id)
            for event in task.process.unseen_events():
                result = getattr(event, "result", None)
                if isinstance(result, ActivityTimedOut):
                    self.on_activity_timedout.send(
                        self,
                        activity_execution=event.activity_execution,  # type: ignore[attr-defined]
                        process_id=task.process.id,
                        details=result.details,
                    )
        return task

    def complete_decision_task(self, task: DecisionTask, decisions: Sequence[Decision]) -> None:
        self.parent.complete_decision_task(task, decisions)
        self.on_complete_decision_task.send(self, task=task, decisions=decisions)
        rejected = self._rejected_by_last_decision(task.process.id) if decisions else []
        for decision in decisions:
            if decision not in rejected:
                self._announce_decision(task.process, decision)

    def _rejected_by_last_decision(self, process_id: str | None) -> list[Decision]:
        """Decisions the engine refused (unknown activity, a close over unseen events):
        they did not happen, so they are not announced."""
        history = self.parent.process_by_id(str(process_id)).history
        starts = [index for index, event in enumerate(history) if event.type == "decision_started"]
        since = starts[-1] if starts else 0
        return [
            event.decision  # type: ignore[attr-defined]
            for event in history[since:]
            if event.type == "decision_rejected"
        ]

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        self.parent.fail_decision_task(task, reason, details)
        self.on_decision_failed.send(
            self, task=task, process_id=task.process.id, reason=reason, details=details
        )

    def _announce_decision(self, process: Process, decision: Decision) -> None:
        common = {"process": process, "process_id": process.id}
        if isinstance(decision, ScheduleActivity):
            self.on_activity_scheduled.send(
                self, activity_execution=decision_execution(decision), **common
            )
        elif isinstance(decision, CancelActivity):
            self.on_activity_canceled.send(self, activity_id=decision.id, **common)
        elif isinstance(decision, CompleteProcess):
            self.on_process_completed.send(self, result=decision.result, **common)
        elif isinstance(decision, CancelProcess):
            self.on_process_canceled.send(self, details=decision.details, **common)
        elif isinstance(decision, FailProcess):
            self.on_process_failed.send(
                self, reason=decision.reason, details=decision.details, **common
            )
        elif isinstance(decision, Timer):
            self.on_timer_started.send(self, timer=decision, **common)
        elif isinstance(decision, StartChildProcess):
            self.on_child_process_started.send(
                self, child=decision.process, child_process_id=decision.process.id, **common
            )

    # activities

    def poll_activity_task(
        self,
        category: str = "default",
        identity: str | None = None,
        activities: Sequence[str] | None = None,
    ) -> Any:
        task = self.parent.poll_activity_task(category, identity, activities)
        if task is not None:
            self.on_activity_started.send(
                self,
                task=task,
                activity_execution=task.activity_execution,
                process_id=task.process_id,
            )
        return task

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        cancel_requested = self.parent.heartbeat_activity_task(task)
        self.on_activity_heartbeat.send(
            self, task=task, process_id=task.process_id, cancel_requested=cancel_requested
        )
        return cancel_requested

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        self.parent.complete_activity_task(task, result)
        self.on_complete_activity_task.send(self, task=task, result=result)
        common = {"activity_execution": task.activity_execution, "process_id": task.process_id}
        if isinstance(result, ActivityCompleted):
            self.on_activity_completed.send(self, result=result.result, **common)
        elif isinstance(result, ActivityCanceled):
            self.on_activity_canceled.send(self, details=result.details, **common)
        elif isinstance(result, ActivityFailed):
            self.on_activity_failed.send(
                self, reason=result.reason, details=result.details, **common
            )
        elif isinstance(result, ActivityTimedOut):
            self.on_activity_timedout.send(self, details=result.details, **common)


def decision_execution(decision: ScheduleActivity) -> ActivityExecution:
    return ActivityExecution(decision.activity, decision.id, decision.input)
