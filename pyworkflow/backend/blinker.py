"""BlinkerBackend: wraps any backend and emits a blinker signal on every runtime event.

Each signal exists twice: on the class, where a receiver hears every wrapped
backend (``BlinkerBackend.on_process_started.connect(f)``, as the 2014 API had
it), and on each instance, where it hears only that one
(``backend.on_process_started.connect(f)``). The sender is always the
BlinkerBackend instance, so class-level receivers can tell backends apart.

Signals of what happened come from the events the wrapped backend publishes
(:mod:`pyworkflow.observe`), so each is announced once, whoever caused it (a
worker's call, another process's sweep), and nothing is re-read to find out.
A few signals speak of calls rather than events (a heartbeat, a completion
reported); those are sent by the call, before the events it caused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
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
    CancelProcess,
    CompleteProcess,
    Decision,
    FailProcess,
    ScheduleActivity,
    StartChildProcess,
    Timer,
)
from ..events import (
    ActivityEvent,
    ActivityStartedEvent,
    CancelRequestedEvent,
    DecisionEvent,
    DecisionFailedEvent,
    DecisionRejectedEvent,
    DecisionStartedEvent,
    Event,
    ProcessStartedEvent,
    ProcessTerminatedEvent,
    SignalEvent,
)
from ..observe import PublishedEvent
from ..process import Process
from ..task import ActivityTask, DecisionTask, Poll
from .base import Backend, TaskList


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
        self._local = threading.local()
        parent.add_observer(self._heard)
        self.retention = parent.retention

    # -- what the wrapped backend published ------------------------------------------

    def _heard(self, events: Sequence[PublishedEvent]) -> None:
        call = getattr(self._local, "call", None)
        if call is not None:
            # Published inside a call of ours on this thread: sent after the call's own
            # signal, with what the call knows (the task, the process as given).
            call.events.extend(events)
        else:
            self._announce(events, _CallContext())
        self.publish(events)

    @contextmanager
    def _call(self, context: _CallContext | None = None) -> Iterator[_CallContext]:
        """Hold the events the call publishes until it has sent its own signal."""
        call = context or _CallContext()
        outer = getattr(self._local, "call", None)
        self._local.call = call
        try:
            yield call
        finally:
            self._local.call = outer
            for signal, kwargs in call.signals:
                signal.send(self, **kwargs)
            self._announce(call.events, call)

    def _announce(self, events: Sequence[PublishedEvent], call: _CallContext) -> None:
        for index, published in enumerate(events):
            following = events[index + 1].event if index + 1 < len(events) else None
            if isinstance(following, DecisionRejectedEvent):
                continue  # refused by the rules: it did not happen
            self._announce_event(published, call)

    def _announce_event(self, published: PublishedEvent, call: _CallContext) -> None:
        event: Event = published.event
        common: dict[str, Any] = {"process_id": published.process_id}
        if isinstance(event, ProcessStartedEvent):
            process = call.process_started or Process(
                workflow=published.workflow, id=published.process_id
            )
            self.on_process_started.send(self, process=process, **common)
        elif isinstance(event, SignalEvent):
            signal = event.signal
            self.on_process_signaled.send(self, signal=signal.name, data=signal.data, **common)
        elif isinstance(event, CancelRequestedEvent):
            self.on_process_cancel_requested.send(self, details=event.details, **common)
        elif isinstance(event, ProcessTerminatedEvent):
            self.on_process_terminated.send(
                self, reason=event.reason, details=event.details, **common
            )
        elif isinstance(event, DecisionStartedEvent):
            self.on_decision_started.send(self, task=call.claimed, **common)
        elif isinstance(event, DecisionFailedEvent):
            self.on_decision_failed.send(
                self, task=call.task, reason=event.reason, details=event.details, **common
            )
        elif isinstance(event, DecisionEvent):
            process = call.process or Process(workflow=published.workflow, id=published.process_id)
            self._announce_decision(event.decision, {"process": process, **common})
        elif isinstance(event, ActivityStartedEvent):
            self.on_activity_started.send(
                self, task=call.claimed, activity_execution=event.activity_execution, **common
            )
        elif isinstance(event, ActivityEvent):
            self._announce_result(event.activity_execution, event.result, common)

    def _announce_decision(self, decision: Decision, common: dict[str, Any]) -> None:
        if isinstance(decision, ScheduleActivity):
            self.on_activity_scheduled.send(
                self, activity_execution=decision_execution(decision), **common
            )
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

    def _announce_result(
        self, execution: ActivityExecution, result: ActivityResult, common: dict[str, Any]
    ) -> None:
        common = {"activity_execution": execution, **common}
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

    # -- the contract, passed through ------------------------------------------------

    def register_workflow(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.parent.register_workflow(name, *args, **kwargs)

    def register_activity(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.parent.register_activity(name, *args, **kwargs)

    def process_by_id(self, process_id: str) -> Process:
        return self.parent.process_by_id(process_id)

    def process_runs(self, process_id: str) -> list[Process]:
        return self.parent.process_runs(process_id)

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        return self.parent.processes(workflow=workflow, tag=tag, status=status)

    def wait_for_work(self, timeout: float, task_list: TaskList | None = None) -> bool:
        return self.parent.wait_for_work(timeout, task_list)

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
        self.parent.remove_observer(self._heard)
        self.parent.close()

    def start_process(self, process: Process) -> str:
        with self._call() as call:
            process_id = self.parent.start_process(process)
            call.process_started = (
                process if process.id == process_id else process.copy_with_id(process_id)
            )
        return process_id

    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None:
        with self._call():
            self.parent.signal_process(process_id, signal_name, data)

    def cancel_process(self, process_id: str, details: Any = None) -> None:
        with self._call():
            self.parent.cancel_process(process_id, details)

    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        with self._call():
            self.parent.request_cancel_process(process_id, details)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        with self._call():
            self.parent.terminate_process(process_id, reason, details)

    def poll_decision_task(
        self,
        category: str = "default",
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        with self._call() as call:
            task = self.parent.poll_decision_task(category, identity, workflows, root_process)
            call.claimed = task
        return task

    def complete_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision]
    ) -> None:
        with self._call(_CallContext(task=task, process=task.process)) as call:
            self.parent.complete_decision_task(task, decisions)
            call.signals.append(
                (self.on_complete_decision_task, {"task": task, "decisions": decisions})
            )

    def complete_and_claim_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision], poll: Poll
    ) -> DecisionTask | None:
        with self._call(_CallContext(task=task, process=task.process)) as call:
            claimed = self.parent.complete_and_claim_decision_task(task, decisions, poll)
            call.claimed = claimed
            call.signals.append(
                (self.on_complete_decision_task, {"task": task, "decisions": decisions})
            )
        return claimed

    def claimed_decision_task(self, token: str) -> DecisionTask | None:
        return self.parent.claimed_decision_task(token)

    def claimed_activity_task(self, token: str) -> ActivityTask | None:
        return self.parent.claimed_activity_task(token)

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        with self._call(_CallContext(task=task, process=task.process)):
            self.parent.fail_decision_task(task, reason, details)

    def poll_activity_task(
        self,
        category: str = "default",
        identity: str | None = None,
        activities: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        with self._call() as call:
            task = self.parent.poll_activity_task(category, identity, activities, root_process)
            call.claimed = task
        return task

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        with self._call(_CallContext(task=task)) as call:
            cancel_requested = self.parent.heartbeat_activity_task(task)
            call.signals.append(
                (
                    self.on_activity_heartbeat,
                    {
                        "task": task,
                        "process_id": task.process_id,
                        "cancel_requested": cancel_requested,
                    },
                )
            )
        return cancel_requested

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        with self._call(_CallContext(task=task)) as call:
            self.parent.complete_activity_task(task, result)
            call.signals.append((self.on_complete_activity_task, {"task": task, "result": result}))

    def complete_and_claim_activity_task(
        self, task: ActivityTask, result: ActivityResult, poll: Poll
    ) -> ActivityTask | None:
        with self._call(_CallContext(task=task)) as call:
            claimed = self.parent.complete_and_claim_activity_task(task, result, poll)
            call.claimed = claimed
            call.signals.append((self.on_complete_activity_task, {"task": task, "result": result}))
        return claimed


class _CallContext:
    """What one call of the wrapper knows, to put in the signals of the events it caused."""

    def __init__(
        self, task: ActivityTask | DecisionTask | None = None, process: Process | None = None
    ) -> None:
        self.task = task
        self.process = process
        # The task the call claimed, whom its Started events concern.
        self.claimed: ActivityTask | DecisionTask | None = None
        self.process_started: Process | None = None
        self.events: list[PublishedEvent] = []
        self.signals: list[tuple[Any, dict[str, Any]]] = []


def decision_execution(decision: ScheduleActivity) -> ActivityExecution:
    return ActivityExecution(decision.activity, decision.id, decision.input)
