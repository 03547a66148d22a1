"""The SWF rules, once. Memory, SQLite and PostgreSQL differ only in their store.

Each public method is one transaction: it reads the rows it needs, applies the
rule, and writes the result back. Everything a caller passes is checked before
the first write, so a refused call changes nothing. The clock is read inside
the transaction, once the write lock is held, so event times follow commit order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from ..activity import ActivityCanceled, ActivityResult, ActivityTimedOut
from ..clock import Clock, utcnow
from ..decision import (
    CHILD_POLICIES,
    CancelActivity,
    CancelProcess,
    CancelTimer,
    CompleteProcess,
    ContinueAsNew,
    Decision,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from ..events import (
    ActivityEvent,
    ActivityStartedEvent,
    CancelRequestedEvent,
    ChildProcessEvent,
    DecisionEvent,
    DecisionFailedEvent,
    DecisionRejectedEvent,
    DecisionStartedEvent,
    DecisionTimedOutEvent,
    Event,
    ProcessStartedEvent,
    ProcessTerminatedEvent,
    ProcessTimedOutEvent,
    SignalEvent,
    TimerEvent,
)
from ..exceptions import (
    InvalidDecisionError,
    ProcessAlreadyOpenException,
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
    UnknownProcessException,
    UnknownWorkflowException,
)
from ..payload import check_payload
from ..process import (
    Process,
    ProcessCanceled,
    ProcessCompleted,
    ProcessContinuedAsNew,
    ProcessFailed,
    ProcessResult,
    ProcessStatus,
    ProcessTerminated,
    ProcessTimedOut,
)
from ..signal import Signal
from ..task import ActivityTask, DecisionTask
from .records import (
    ActivityRecord,
    ActivityState,
    ActivityType,
    DecisionState,
    ProcessRecord,
    TimerRecord,
    WorkflowType,
)
from .store import Store, Transaction

V = TypeVar("V")

DUE_BATCH = 100
MAX_DECISION_BACKOFF = 60.0


def decision_backoff(failures: int) -> float:
    """Seconds before a failed decision is offered again: 1, 2, 4 ... up to a minute."""
    return min(MAX_DECISION_BACKOFF, 2.0 ** max(0, failures - 1))


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


class Registry:
    """The workflow and activity types this process knows, with their timeouts."""

    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowType] = {}
        self.activities: dict[str, ActivityType] = {}

    def workflow(self, name: str) -> WorkflowType:
        try:
            return self.workflows[name]
        except KeyError:
            raise UnknownWorkflowException(f"workflow {name!r} is not registered") from None


class Engine:
    def __init__(self, store: Store, registry: Registry, clock: Clock = utcnow) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock

    # -- starting and steering processes -------------------------------------------

    def start_process(self, process: Process) -> str:
        workflow = self.registry.workflow(str(process.workflow))
        input = check_payload(process.input, "input")
        tags = _check_tags(process.tags)
        process_id = process.id or str(uuid4())
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            running = tx.get_open_run(process_id)
            if running is not None and self._expire_run(tx, running, now).is_open:
                raise ProcessAlreadyOpenException(f"process {process_id!r} is already open")
            self._open_run(tx, workflow, process_id, input, tags, now, parent=None)
        return process_id

    def signal_process(self, process_id: str, name: str, data: Any = None) -> None:
        data = check_payload(data, "signal data")
        signal = Signal(name, data)
        self._steer(
            process_id, lambda tx, run, now: self._deliver(tx, run, SignalEvent(signal, now), now)
        )

    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        details = check_payload(details, "details")
        self._steer(
            process_id,
            lambda tx, run, now: self._deliver(tx, run, CancelRequestedEvent(details, now), now),
        )

    def cancel_process(self, process_id: str, details: Any = None) -> None:
        """Close at once as canceled, as the 2014 backends did; the decider is not asked."""
        details = check_payload(details, "details")

        def cancel(tx: Transaction, run: ProcessRecord, now: datetime) -> None:
            tx.append_events(run.run_id, [DecisionEvent(CancelProcess(details), now)])
            self._close(tx, run, ProcessCanceled(details), now)

        self._steer(process_id, cancel)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        reason = check_payload(reason, "reason")
        details = check_payload(details, "details")
        self._steer(process_id, lambda tx, run, now: self._terminate(tx, run, reason, details, now))

    def _steer(
        self, process_id: str, action: Callable[[Transaction, ProcessRecord, datetime], None]
    ) -> None:
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            run = tx.get_open_run(process_id)
            if run is not None:
                run = self._expire_run(tx, run, now)
            if run is None or not run.is_open:
                if tx.get_latest_run(process_id) is None:
                    raise UnknownProcessException(f"no process with id {process_id!r}")
                raise ProcessClosedException(f"process {process_id!r} is closed")
            action(tx, run, now)

    # -- reading -----------------------------------------------------------------------

    def process_by_id(self, process_id: str) -> Process:
        with self.store.transaction() as tx:
            self._expire_due(tx, self.clock())
            run = tx.get_latest_run(process_id)
            if run is None:
                raise UnknownProcessException(f"no process with id {process_id!r}")
            return _as_process(run, tx.history(run.run_id))

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        statuses = _statuses(status)
        with self.store.transaction() as tx:
            self._expire_due(tx, self.clock())
            runs = tx.list_runs(workflow, tag, statuses)
        return [_as_process(run, history_loader=self._history_loader(run.run_id)) for run in runs]

    def _history_loader(self, run_id: str) -> Callable[[], list[Event]]:
        def load() -> list[Event]:
            with self.store.transaction() as tx:
                return tx.history(run_id)

        return load

    # -- decision tasks ------------------------------------------------------------------

    def claim_decision_task(
        self, category: str, workflows: Sequence[str] | None = None
    ) -> DecisionTask | None:
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            while True:
                run = tx.next_decision(category, now, workflows)
                if run is None:
                    return None
                # A run past its timeout that the sweep did not reach is closed, not offered.
                if self._expire_run(tx, run, now).is_open:
                    break
            run.decision = DecisionState.STARTED
            run.decision_token = str(uuid4())
            run.decision_deadline = _after(now, run.decision_timeout)
            run.decision_attempts += 1
            tx.append_events(run.run_id, [DecisionStartedEvent(now)])
            tx.update_process(run)
            process = _as_process(run, tx.history(run.run_id))
        context = {
            "run_id": run.run_id,
            "token": run.decision_token,
            "attempt": run.decision_failures + 1,
        }
        return DecisionTask(process, context=context)

    def complete_decision_task(self, task: DecisionTask, decisions: Sequence[Decision]) -> None:
        decisions = _check_decisions(decisions)
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            run = self._held_decision(tx, task, now)
            for decision in decisions:
                if not run.is_open:
                    break
                tx.append_events(run.run_id, [DecisionEvent(decision, now)])
                self._apply(tx, run, decision, now)
            if run.is_open:
                run.release_decision(now if run.decision_again else None)
                run.decision_failures = 0
                tx.update_process(run)

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        """Record that the decider could not decide, and offer the task again after a backoff."""
        reason, details = _jsonable(reason), _jsonable(details)
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            run = self._held_decision(tx, task, now)
            tx.append_events(run.run_id, [DecisionFailedEvent(reason, details, now)])
            run.decision_failures += 1
            run.release_decision(_after(now, decision_backoff(run.decision_failures)))
            tx.update_process(run)

    def _held_decision(self, tx: Transaction, task: DecisionTask, now: datetime) -> ProcessRecord:
        run = tx.get_run(str(task.context.get("run_id")))
        if run is not None:
            run = self._expire_run(tx, run, now)
        if (
            run is None
            or not run.is_open
            or run.decision != DecisionState.STARTED
            or run.decision_token != task.context.get("token")
        ):
            raise UnknownDecisionException("decision task is unknown, closed or timed out")
        return run

    # -- applying decisions ------------------------------------------------------------

    def _apply(
        self, tx: Transaction, run: ProcessRecord, decision: Decision, now: datetime
    ) -> None:
        rejection = self._apply_or_reject(tx, run, decision, now)
        if rejection:
            tx.append_events(run.run_id, [DecisionRejectedEvent(decision, rejection, now)])
            self._schedule_decision(run, now)

    def _apply_or_reject(
        self, tx: Transaction, run: ProcessRecord, decision: Decision, now: datetime
    ) -> str | None:
        if decision.closes_process and run.decision_again:
            # As SWF's UNHANDLED_DECISION: the decider has not seen what just arrived.
            return "new events arrived while deciding; decide again before closing"
        if isinstance(decision, ScheduleActivity):
            return self._schedule_activity(tx, run, decision, now)
        if isinstance(decision, CancelActivity):
            return self._cancel_activity(tx, run, decision, now)
        if isinstance(decision, Timer):
            timer_id = decision.id or str(uuid4())
            if decision.id and tx.has_timer(run.run_id, timer_id):
                return f"a timer with id {timer_id!r} is already running"
            due = _after(now, decision.delay)
            tx.insert_timer(TimerRecord(run.run_id, timer_id, decision, due))
            return None
        if isinstance(decision, CancelTimer):
            if not tx.delete_timer(run.run_id, decision.id):
                return f"no running timer with id {decision.id!r}"
            return None
        if isinstance(decision, RecordMarker):
            return None
        if isinstance(decision, (SignalProcess, RequestCancelProcess)):
            return self._message_process(tx, run, decision, now)
        if isinstance(decision, StartChildProcess):
            return self._start_child(tx, run, decision, now)
        if isinstance(decision, ContinueAsNew):
            self._continue_as_new(tx, run, decision, now)
            return None
        if isinstance(decision, CompleteProcess):
            self._close(tx, run, ProcessCompleted(decision.result), now)
        elif isinstance(decision, CancelProcess):
            self._close(tx, run, ProcessCanceled(decision.details), now)
        elif isinstance(decision, FailProcess):
            self._close(tx, run, ProcessFailed(decision.reason, decision.details), now)
        return None

    def _schedule_activity(
        self, tx: Transaction, run: ProcessRecord, decision: ScheduleActivity, now: datetime
    ) -> str | None:
        kind = self.registry.activities.get(decision.activity)
        if kind is None:
            return f"activity {decision.activity!r} is not registered"
        if tx.get_activity(run.run_id, decision.id) is not None:
            return f"an activity with id {decision.id!r} is already open"
        tx.insert_activity(
            ActivityRecord(
                run_id=run.run_id,
                process_id=run.process_id,
                activity_id=decision.id,
                activity=decision.activity,
                category=decision.category or kind.category,
                scheduled_at=now,
                schedule_deadline=_after(now, kind.scheduled_timeout),
                execution_timeout=kind.execution_timeout,
                heartbeat_timeout=kind.heartbeat_timeout,
                input=decision.input,
            )
        )
        return None

    def _cancel_activity(
        self, tx: Transaction, run: ProcessRecord, decision: CancelActivity, now: datetime
    ) -> str | None:
        activity = tx.get_activity(run.run_id, decision.id)
        if activity is None:
            return f"no open activity with id {decision.id!r}"
        if activity.state == ActivityState.SCHEDULED:
            tx.delete_activity(run.run_id, decision.id)
            tx.append_events(
                run.run_id, [ActivityEvent(activity.execution, ActivityCanceled(), now)]
            )
            self._schedule_decision(run, now)
        else:
            # A running activity learns of it at its next heartbeat and reports the outcome.
            activity.cancel_requested = True
            tx.update_activity(activity)
        return None

    def _message_process(
        self,
        tx: Transaction,
        run: ProcessRecord,
        decision: SignalProcess | RequestCancelProcess,
        now: datetime,
    ) -> str | None:
        target = (
            run if decision.process_id == run.process_id else tx.get_open_run(decision.process_id)
        )
        if target is None:
            return f"no open process with id {decision.process_id!r}"
        if isinstance(decision, SignalProcess):
            event: Event = SignalEvent(Signal(decision.name, decision.data), now)
        else:
            event = CancelRequestedEvent(decision.details, now)
        if target is run:
            tx.append_events(run.run_id, [event])
            self._schedule_decision(run, now)
        else:
            self._deliver(tx, target, event, now)
        return None

    def _start_child(
        self, tx: Transaction, run: ProcessRecord, decision: StartChildProcess, now: datetime
    ) -> str | None:
        child = decision.process
        workflow = self.registry.workflows.get(str(child.workflow))
        if workflow is None:
            return f"workflow {child.workflow!r} is not registered"
        assert child.id is not None
        if tx.get_open_run(child.id) is not None:
            return f"process {child.id!r} is already open"
        self._open_run(
            tx,
            workflow,
            child.id,
            child.input,
            list(child.tags),
            now,
            parent=run,
            child_policy=decision.child_policy,
        )
        return None

    def _continue_as_new(
        self, tx: Transaction, run: ProcessRecord, decision: ContinueAsNew, now: datetime
    ) -> None:
        self._close(tx, run, ProcessContinuedAsNew(decision.input), now)
        parent = tx.get_run(run.parent_run) if run.parent_run else None
        tags = run.tags if decision.tags is None else list(decision.tags)
        self._open_run(
            tx,
            self.registry.workflow(run.workflow),
            run.process_id,
            decision.input,
            tags,
            now,
            parent=parent,
            child_policy=run.child_policy,
        )

    # -- activity tasks ------------------------------------------------------------------

    def claim_activity_task(
        self, category: str, activities: Sequence[str] | None = None
    ) -> ActivityTask | None:
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            while True:
                activity = tx.next_activity(category, activities)
                if activity is None:
                    return None
                # Past a deadline the sweep did not reach: it timed out, it is not offered.
                run = tx.get_run(activity.run_id)
                if run is not None and not self._expire_run(tx, run, now).is_open:
                    continue
                if activity.due_at > now:
                    break
                self._expire_activity(tx, activity, now)
            activity.state = ActivityState.STARTED
            activity.token = str(uuid4())
            activity.attempt += 1
            activity.started_at = now
            activity.execution_deadline = _after(now, activity.execution_timeout)
            activity.heartbeat_deadline = _after(now, activity.heartbeat_timeout)
            tx.update_activity(activity)
            tx.append_events(activity.run_id, [ActivityStartedEvent(activity.execution, now)])
        context = {"run_id": activity.run_id, "token": activity.token, "attempt": activity.attempt}
        return ActivityTask(activity.execution, process_id=activity.process_id, context=context)

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        """Extend the heartbeat deadline; answer whether cancellation was requested."""
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            activity = self._held_activity(tx, task, now)
            activity.heartbeat_deadline = _after(now, activity.heartbeat_timeout)
            tx.update_activity(activity)
            return activity.cancel_requested

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        if not isinstance(result, ActivityResult):
            raise TypeError(f"an activity result is needed, not {type(result).__name__}")
        result = _with_payloads(result, {name: f"result.{name}" for name in result._fields})
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)
            activity = self._held_activity(tx, task, now)
            run = tx.get_run(activity.run_id)
            tx.delete_activity(activity.run_id, activity.activity_id)
            if run is None or not run.is_open:
                return
            self._deliver(tx, run, ActivityEvent(activity.execution, result, now), now)

    # -- time ------------------------------------------------------------------------------

    def expire_due(self) -> None:
        with self.store.transaction() as tx:
            now = self.clock()
            self._expire_due(tx, now)

    def _expire_due(self, tx: Transaction, now: datetime) -> None:
        for activity in tx.due_activities(now, DUE_BATCH):
            self._expire_activity(tx, activity, now)
        for timer in tx.due_timers(now, DUE_BATCH):
            tx.delete_timer(timer.run_id, timer.timer_id)
            run = tx.get_run(timer.run_id)
            if run is not None and run.is_open:
                self._deliver(tx, run, TimerEvent(timer.timer, now), now)
        for due in tx.due_runs(now, DUE_BATCH):
            # Re-read: closing one run (a parent) may already have closed another.
            run = tx.get_run(due.run_id)
            if run is not None:
                self._expire_run(tx, run, now)

    def _expire_activity(self, tx: Transaction, activity: ActivityRecord, now: datetime) -> None:
        tx.delete_activity(activity.run_id, activity.activity_id)
        run = tx.get_run(activity.run_id)
        if run is None or not run.is_open:
            return
        timed_out = ActivityTimedOut(activity.expired_timeout())
        self._deliver(tx, run, ActivityEvent(activity.execution, timed_out, now), now)

    def _expire_run(self, tx: Transaction, run: ProcessRecord, now: datetime) -> ProcessRecord:
        """Apply the run's own deadlines that have passed; the run as it now stands.

        The sweep in ``_expire_due`` takes a batch at a time; calls that act on one run
        check its deadlines here too, so a backlog never lets a late caller through."""
        if not run.is_open:
            return run
        if run.timeout_at is not None and run.timeout_at <= now:
            tx.append_events(run.run_id, [ProcessTimedOutEvent(now)])
            self._close(tx, run, ProcessTimedOut(), now)
        elif (
            run.decision == DecisionState.STARTED
            and run.decision_deadline is not None
            and run.decision_deadline <= now
        ):
            tx.append_events(run.run_id, [DecisionTimedOutEvent(now)])
            run.release_decision(now)
            tx.update_process(run)
        return run

    def _held_activity(self, tx: Transaction, task: ActivityTask, now: datetime) -> ActivityRecord:
        execution = task.activity_execution
        activity = tx.get_activity(str(task.context.get("run_id")), execution.id)
        if activity is not None and activity.due_at <= now:
            # Past its deadline though the sweep did not reach it yet: it timed out.
            self._expire_activity(tx, activity, now)
            activity = None
        if (
            activity is None
            or activity.state != ActivityState.STARTED
            or activity.token != task.context.get("token")
        ):
            raise UnknownActivityException(
                f"activity task {execution.activity}/{execution.id} is unknown, finished or "
                "timed out"
            )
        return activity

    # -- shared steps ------------------------------------------------------------------------

    def _open_run(
        self,
        tx: Transaction,
        workflow: WorkflowType,
        process_id: str,
        input: Any,
        tags: list[str],
        now: datetime,
        parent: ProcessRecord | None,
        child_policy: str = "ABANDON",
    ) -> ProcessRecord:
        run = ProcessRecord(
            run_id=str(uuid4()),
            process_id=process_id,
            workflow=workflow.name,
            category=workflow.category,
            decision_timeout=workflow.decision_timeout,
            started_at=now,
            input=input,
            tags=tags,
            parent_id=parent.process_id if parent else None,
            parent_run=parent.run_id if parent else None,
            child_policy=child_policy,
            timeout_at=_after(now, workflow.timeout),
            decision=DecisionState.SCHEDULED,
            decision_ready_at=now,
        )
        tx.insert_process(run)
        tx.append_events(run.run_id, [ProcessStartedEvent(now)])
        return run

    def _deliver(self, tx: Transaction, run: ProcessRecord, event: Event, now: datetime) -> None:
        """Append an event that the decider must see, and make sure it gets to see it."""
        tx.append_events(run.run_id, [event])
        self._schedule_decision(run, now)
        tx.update_process(run)

    @staticmethod
    def _schedule_decision(run: ProcessRecord, now: datetime) -> None:
        if run.decision == DecisionState.NONE:
            run.decision = DecisionState.SCHEDULED
            run.decision_ready_at = now
        elif run.decision == DecisionState.STARTED:
            run.decision_again = True

    def _terminate(
        self, tx: Transaction, run: ProcessRecord, reason: Any, details: Any, now: datetime
    ) -> None:
        tx.append_events(run.run_id, [ProcessTerminatedEvent(reason, details, now)])
        self._close(tx, run, ProcessTerminated(reason, details), now)

    def _close(
        self, tx: Transaction, run: ProcessRecord, result: ProcessResult, now: datetime
    ) -> None:
        run.status = result.status
        run.result = result
        run.closed_at = now
        run.timeout_at = None
        run.release_decision(None)
        tx.update_process(run)
        tx.delete_activities_of(run.run_id)
        tx.delete_timers_of(run.run_id)
        for child in tx.open_children(run.run_id):
            if child.child_policy == "TERMINATE":
                self._terminate(tx, child, "parent closed", None, now)
            elif child.child_policy == "REQUEST_CANCEL":
                self._deliver(tx, child, CancelRequestedEvent("parent closed", now), now)
        if run.parent_run and not isinstance(result, ProcessContinuedAsNew):
            parent = tx.get_run(run.parent_run)
            if parent is not None and parent.is_open:
                event = ChildProcessEvent(run.process_id, result, run.workflow, list(run.tags), now)
                self._deliver(tx, parent, event, now)

    # -- retention ---------------------------------------------------------------------

    def purge_closed(self, older_than: timedelta, workflow: str | None, limit: int) -> int:
        """Forget up to ``limit`` processes that closed more than ``older_than`` ago,
        in one short transaction; how many. An open process is never purgeable; a
        closed child of an open parent is, since the parent's history keeps its result."""
        with self.store.transaction() as tx:
            cutoff = self.clock() - older_than
            runs = [
                run for run in tx.purgeable_runs(cutoff, workflow, limit) if _purgeable(run, cutoff)
            ]
            for run in runs:
                tx.delete_run(run.run_id)
        return len(runs)

    def count_purgeable(self, older_than: timedelta, workflow: str | None) -> int:
        with self.store.transaction() as tx:
            return tx.count_purgeable(self.clock() - older_than, workflow)

    def count_processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        statuses = _statuses(status)
        with self.store.transaction() as tx:
            self._expire_due(tx, self.clock())
            if tag is not None:
                return len(tx.list_runs(workflow, tag, statuses))
            return tx.count_runs(workflow, statuses)


def _as_process(
    run: ProcessRecord,
    history: list[Event] | None = None,
    history_loader: Callable[[], list[Event]] | None = None,
) -> Process:
    return Process(
        workflow=run.workflow,
        id=run.process_id,
        input=run.input,
        tags=list(run.tags),
        history=history,
        parent=run.parent_id,
        status=run.status,
        result=run.result,
        started_at=run.started_at,
        closed_at=run.closed_at,
        history_loader=history_loader,
    )


def _purgeable(run: ProcessRecord, cutoff: datetime) -> bool:
    """The retention rule: closed, and closed before ``cutoff``."""
    return not run.is_open and run.closed_at is not None and run.closed_at < cutoff


def _statuses(status: str | None) -> tuple[str, ...]:
    if status is None or status == "all":
        return ProcessStatus.ALL
    if status == "closed":
        return ProcessStatus.CLOSED
    if status not in ProcessStatus.ALL:
        allowed = ", ".join((*ProcessStatus.ALL, "closed", "all"))
        raise ValueError(f"unknown status {status!r}; expected one of {allowed}")
    return (status,)


def _check_tags(tags: Any) -> list[str]:
    if not all(isinstance(tag, str) for tag in tags):
        raise ValueError("tags must be strings")
    return list(tags)


def _jsonable(value: Any) -> Any:
    try:
        return check_payload(value, "value")
    except ValueError:
        return repr(value)


def _with_payloads(value: V, labels: dict[str, str]) -> V:
    """A copy of ``value`` whose named fields hold their payloads as JSON carries them;
    the caller's object, which it may change later, is never stored."""
    copied = copy.copy(value)
    for name, label in labels.items():
        setattr(copied, name, check_payload(getattr(value, name), label))
    return copied


def _check_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """Refuse the whole list before anything is written: a bad decider changes nothing.

    Returns the decisions as they will be stored, payloads carried through JSON."""
    checked: list[Decision] = []
    for index, decision in enumerate(decisions):
        where = f"decision {index}"
        if not isinstance(decision, Decision):
            raise InvalidDecisionError(f"{where}: {decision!r} is not a decision")
        labels: dict[str, str] = {}
        for name in decision._fields:
            value = getattr(decision, name)
            if not isinstance(value, Process):
                labels[name] = f"{where} ({decision.type}).{name}"
        stored = _with_payloads(decision, labels)
        for name in decision._fields:
            value = getattr(decision, name)
            if isinstance(value, Process):
                child_input = check_payload(value.input, f"{where} ({decision.type}).process.input")
                tags = _check_tags(value.tags)
                child = value.copy_with_id(value.id or str(uuid4()), input=child_input, tags=tags)
                setattr(stored, name, child)
        if isinstance(decision, ContinueAsNew) and decision.tags is not None:
            _check_tags(decision.tags)
        if decision.closes_process and index != len(decisions) - 1:
            raise InvalidDecisionError(f"{where}: {decision.type} must be the last decision")
        if isinstance(decision, StartChildProcess) and decision.child_policy not in CHILD_POLICIES:
            raise InvalidDecisionError(
                f"{where}: child_policy must be one of {', '.join(CHILD_POLICIES)}"
            )
        if isinstance(decision, Timer) and not (
            isinstance(decision.delay, (int, float)) and decision.delay >= 0
        ):
            raise InvalidDecisionError(f"{where}: timer delay must be a number of seconds >= 0")
        checked.append(stored)
    return checked
