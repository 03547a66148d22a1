"""The SWF rules, once. Memory, SQLite and PostgreSQL differ only in their store.

The engine *is* their backend: each public method is the Backend contract's,
and one unit of work of the store (``_transact``): it reads the rows it needs,
applies the rule, writes the result back, and, once committed, publishes the
events it appended to the backend's observers. Everything a caller passes is
checked before the first write, so a call refused for its arguments changes
nothing. The clock is read inside the transaction, once the write lock is held,
so event times follow commit order.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from .._duration import as_duration
from .._ids import as_id
from ..activity import ActivityCanceled, ActivityResult, ActivityTimedOut
from ..backend.base import Backend, TaskList
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
from ..defaults import Defaults
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
    BackendError,
    InvalidDecisionError,
    ProcessAlreadyOpenException,
    ProcessClosedException,
    PyworkflowError,
    UnknownActivityException,
    UnknownDecisionException,
    UnknownProcessException,
    UnknownWorkflowException,
)
from ..observe import PublishedEvent
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
from ..task import ActivityTask, DecisionTask, Poll
from ._histories import HistoryCache
from ._next_deadline import NextDeadline
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
# Processes forgotten per transaction: short enough never to hold SQLite's write
# lock for long, large enough that purging keeps up with any steady load.
PURGE_BATCH = 100
MAX_DECISION_BACKOFF = 60.0


# SWF's UNHANDLED_DECISION, in the words every backend records: a close the decider
# made without seeing what arrived while it decided.
UNHANDLED_DECISION = "new events arrived while deciding; decide again before closing"


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


class Engine(Backend):
    """The backend of every store: ``MemoryBackend``, ``SQLiteBackend`` and
    ``PostgresBackend`` are this class over their store."""

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        retention: timedelta | str | None = None,
    ) -> None:
        """``clock``, when given (a ManualClock in tests), is the rules' time;
        otherwise the store's own (PostgreSQL's server clock, which every machine
        sharing the database agrees on), else this machine's UTC clock."""
        self.store = store
        #: Closed processes older than this are purged by workers; None keeps them.
        self.retention = as_duration(retention)
        self.clock: Clock = clock or utcnow
        self._clock_given = clock is not None
        self.registry = Registry()
        self.histories = HistoryCache()
        self._next_deadline = NextDeadline(store.next_due_at)

    # -- registration ------------------------------------------------------------------

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

    # -- starting and steering processes -------------------------------------------

    def start_process(self, process: Process) -> str:
        workflow = self.registry.workflow(str(process.workflow))
        input = check_payload(process.input, "input")
        tags = _check_tags(process.tags)
        process_id = as_id(process.id, "process id", ValueError) or str(uuid4())

        def start(tx: Transaction, now: datetime) -> str:
            running = tx.get_open_run(process_id)
            if running is not None and self._expire_run(tx, running, now).is_open:
                raise ProcessAlreadyOpenException(f"process {process_id!r} is already open")
            self._open_run(tx, workflow, process_id, input, tags, now, parent=None)
            return process_id

        return self._transact(start)

    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None:
        data = check_payload(data, "signal data")
        signal = Signal(signal_name, data)
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
            tx.append_events(run, [DecisionEvent(CancelProcess(details), now)])
            self._close(tx, run, ProcessCanceled(details), now)

        self._steer(process_id, cancel)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        reason = check_payload(reason, "reason")
        details = check_payload(details, "details")
        self._steer(process_id, lambda tx, run, now: self._terminate(tx, run, reason, details, now))

    def _steer(
        self, process_id: str, action: Callable[[Transaction, ProcessRecord, datetime], None]
    ) -> None:
        def steer(tx: Transaction, now: datetime) -> None:
            run = tx.get_open_run(process_id)
            if run is not None:
                run = self._expire_run(tx, run, now)
            if run is None or not run.is_open:
                if tx.get_latest_run(process_id) is None:
                    raise UnknownProcessException(f"no process with id {process_id!r}")
                raise ProcessClosedException(f"process {process_id!r} is closed")
            action(tx, run, now)

        self._transact(steer)

    # -- reading -----------------------------------------------------------------------

    def process_by_id(self, process_id: str) -> Process:
        def read(tx: Transaction) -> Process | None:
            run = tx.get_latest_run(process_id)
            return None if run is None else _as_process(run, tx.history(run.run_id))

        self._expire_if_due()
        process = self.store.read(read)
        if process is None:
            raise UnknownProcessException(f"no process with id {process_id!r}")
        return process

    def process_runs(self, process_id: str) -> list[Process]:
        self._expire_if_due()
        runs = self.store.read(lambda tx: tx.process_runs(process_id))
        if not runs:
            raise UnknownProcessException(f"no process with id {process_id!r}")
        return [_as_process(run, history_loader=self._history_loader(run.run_id)) for run in runs]

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        statuses = _statuses(status)
        self._expire_if_due()
        runs = self.store.read(lambda tx: tx.list_runs(workflow, tag, statuses))
        return [_as_process(run, history_loader=self._history_loader(run.run_id)) for run in runs]

    def _history_loader(self, run_id: str) -> Callable[[], list[Event]]:
        return lambda: self.store.read(lambda tx: tx.history(run_id))

    # -- decision tasks ------------------------------------------------------------------

    def poll_decision_task(
        self,
        category: str = Defaults.DECISION_CATEGORY,
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        poll = Poll(category, identity, workflows, root_process)
        if not self._worth_claiming(
            lambda tx, now: tx.next_decision(poll.category, now, poll.names, poll.root_process)
        ):
            return None
        return self._transact(
            self._decision_claim(poll), durable=False, expect=_claim_of("decision", poll)
        )

    def complete_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision]
    ) -> None:
        """Record ``decisions`` (one, or a list, as ``decide()`` may return) and apply them."""
        self._transact(self._decision_completion(task, decisions), expect=_run_of(task))

    def complete_and_claim_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision], poll: Poll
    ) -> DecisionTask | None:
        return self._transact(
            _then(self._decision_completion(task, decisions), self._decision_claim(poll)),
            expect=_run_of(task),
        )

    def _decision_claim(self, poll: Poll) -> Callable[[Transaction, datetime], DecisionTask | None]:
        def claim(tx: Transaction, now: datetime) -> DecisionTask | None:
            while True:
                run = tx.next_decision(poll.category, now, poll.names, poll.root_process)
                if run is None:
                    return None
                # A run past its timeout that the sweep did not reach is closed, not offered.
                if self._expire_run(tx, run, now).is_open:
                    break
            mine = sum(1 for published in tx.appended if published.run_id == run.run_id)
            history = self.histories.history(
                run.run_id, lambda after: tx.history(run.run_id, after), uncommitted=mine
            )
            if history:
                now = _not_before(now, history[-1].datetime)
            run.decision = DecisionState.STARTED
            run.decision_token = poll.claim_token or str(uuid4())
            run.decision_deadline = _after(now, run.decision_timeout)
            run.decision_attempts += 1
            started = DecisionStartedEvent(now, identity=poll.identity)
            tx.append_events(run, [started])
            tx.update_process(run)
            history.append(started)
            return _decision_task(run, history)

        return claim

    def claimed_decision_task(self, token: str) -> DecisionTask | None:
        def read(tx: Transaction) -> DecisionTask | None:
            run = tx.decision_claimed_with(token)
            return None if run is None else _decision_task(run, tx.history(run.run_id))

        return self.store.read(read)

    def _decision_completion(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision]
    ) -> Callable[[Transaction, datetime], None]:
        checked = _check_decisions([decisions] if isinstance(decisions, Decision) else decisions)

        def complete(tx: Transaction, now: datetime) -> None:
            run = self._held_decision(tx, task, now)
            for decision in checked:
                if not run.is_open:
                    break
                tx.append_events(run, [DecisionEvent(decision, now)])
                self._apply(tx, run, decision, now)
            if run.is_open:
                run.release_decision(now if run.decision_again else None)
                run.decision_failures = 0
                tx.update_process(run)

        return complete

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        """Record that the decider could not decide, and offer the task again after a backoff."""
        reason, details = _jsonable(reason), _jsonable(details)

        def fail(tx: Transaction, now: datetime) -> None:
            run = self._held_decision(tx, task, now)
            tx.append_events(run, [DecisionFailedEvent(reason, details, now)])
            run.decision_failures += 1
            run.release_decision(_after(now, decision_backoff(run.decision_failures)))
            tx.update_process(run)

        self._transact(fail, expect=_run_of(task))

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
            tx.append_events(run, [DecisionRejectedEvent(decision, rejection, now)])
            self._schedule_decision(run, now)

    def _apply_or_reject(
        self, tx: Transaction, run: ProcessRecord, decision: Decision, now: datetime
    ) -> str | None:
        if decision.closes_process and run.decision_again:
            return UNHANDLED_DECISION
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
                root_id=run.root_id,
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
            tx.append_events(run, [ActivityEvent(activity.execution, ActivityCanceled(), now)])
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
            tx.append_events(run, [event])
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

    def poll_activity_task(
        self,
        category: str = Defaults.ACTIVITY_CATEGORY,
        identity: str | None = None,
        activities: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        poll = Poll(category, identity, activities, root_process)
        if not self._worth_claiming(
            lambda tx, _: tx.next_activity(poll.category, poll.names, poll.root_process)
        ):
            return None
        return self._transact(
            self._activity_claim(poll), durable=False, expect=_claim_of("activity", poll)
        )

    def _activity_claim(self, poll: Poll) -> Callable[[Transaction, datetime], ActivityTask | None]:
        def claim(tx: Transaction, now: datetime) -> ActivityTask | None:
            while True:
                activity = tx.next_activity(poll.category, poll.names, poll.root_process)
                if activity is None:
                    return None
                # Past a deadline the sweep did not reach: it timed out, it is not offered.
                run = tx.get_run(activity.run_id)
                if run is None or not self._expire_run(tx, run, now).is_open:
                    continue
                if activity.due_at > now:
                    break
                self._expire_activity(tx, activity, now)
            now = _not_before(now, activity.scheduled_at)
            activity.state = ActivityState.STARTED
            activity.token = poll.claim_token or str(uuid4())
            activity.attempt += 1
            activity.started_at = now
            activity.execution_deadline = _after(now, activity.execution_timeout)
            activity.heartbeat_deadline = _after(now, activity.heartbeat_timeout)
            tx.update_activity(activity)
            started = ActivityStartedEvent(activity.execution, now, identity=poll.identity)
            tx.append_events(run, [started])
            return _activity_task(activity)

        return claim

    def claimed_activity_task(self, token: str) -> ActivityTask | None:
        def read(tx: Transaction) -> ActivityTask | None:
            activity = tx.activity_claimed_with(token)
            return None if activity is None else _activity_task(activity)

        return self.store.read(read)

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        """Extend the heartbeat deadline; answer whether cancellation was requested."""

        def heartbeat(tx: Transaction, now: datetime) -> bool:
            activity = self._held_activity(tx, task, now)
            activity.heartbeat_deadline = _after(now, activity.heartbeat_timeout)
            tx.update_activity(activity)
            return activity.cancel_requested

        return self._transact(heartbeat, expect=_activity_of(task))

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        self._transact(self._activity_completion(task, result), expect=_activity_of(task))

    def complete_and_claim_activity_task(
        self, task: ActivityTask, result: ActivityResult, poll: Poll
    ) -> ActivityTask | None:
        return self._transact(
            _then(self._activity_completion(task, result), self._activity_claim(poll)),
            expect=_activity_of(task),
        )

    def _activity_completion(
        self, task: ActivityTask, result: ActivityResult
    ) -> Callable[[Transaction, datetime], None]:
        if not isinstance(result, ActivityResult):
            raise TypeError(f"an activity result is needed, not {type(result).__name__}")
        result = checked_result(result)

        def complete(tx: Transaction, now: datetime) -> None:
            activity = self._held_activity(tx, task, now)
            run = tx.get_run(activity.run_id)
            tx.delete_activity(activity.run_id, activity.activity_id)
            if run is None or not run.is_open:
                return
            self._deliver(tx, run, ActivityEvent(activity.execution, result, now), now)

        return complete

    # -- time ------------------------------------------------------------------------------

    def expire_due(self) -> None:
        """Apply every deadline that has passed; workers' polls do this as they go."""
        self._transact(lambda tx, now: None)

    def _expire_if_due(self) -> None:
        """Before a read, apply the deadlines that have passed, so what is shown is
        what a worker would now find; most reads find none due, and then take no
        write lock at all: the read itself is a snapshot that locks nothing."""
        due = self.store.next_due_at()
        if due is not None and due <= self.clock():
            self.expire_due()

    def wait_for_work(self, timeout: float, task_list: TaskList | None = None) -> bool:
        # A deadline already past was handled by the last poll, or is another
        # category's work: only a future one shortens the wait.
        due = self._next_deadline.get()
        now = self.clock()
        if due is not None and due > now and (due - now).total_seconds() <= timeout:
            self._wait_for_change((due - now).total_seconds(), task_list)
            return True
        return self._wait_for_change(timeout, task_list) if timeout > 0 else False

    def _wait_for_change(self, timeout: float, task_list: TaskList | None) -> bool:
        news = self.store.wait_for_change(timeout, task_list)
        if news:
            self._next_deadline.forget()
        return news

    def close(self) -> None:
        self.store.close()

    # -- the unit of work --------------------------------------------------------------------

    def _worth_claiming(self, find: Callable[[Transaction, datetime], object | None]) -> bool:
        """Whether a claim may find a task or a deadline to apply.

        Where writes exclude each other (SQLite), a claim that finds nothing still
        took the write lock, and the writer with work waited for it: with an idle
        decision and activity worker, each woken by the other's every commit, such
        waits made up most of a process's latency. A read locks nothing, so it
        looks first there; elsewhere the claim itself is the cheapest look."""
        if not self.store.exclusive_writes:
            return True
        now = self.clock()
        if self.store.read(lambda tx: find(tx, now)) is not None:
            return True  # the claim's own transaction sweeps what is due
        due = self.store.next_due_at()
        return due is not None and due <= now

    def _transact(
        self,
        work: Callable[[Transaction, datetime], V],
        durable: bool = True,
        expect: Callable[[Transaction], None] | None = None,
    ) -> V:
        """Run ``work`` as one transaction of the store, after the deadlines due, and
        publish what it appended once that is committed. ``expect`` tells the
        transaction, before anything is read, what ``work`` will read first.

        A call the rules refuse (a late completion, a closed process) still commits
        what it wrote on the way, such as the deadlines it found expired: the refusal
        is decided from those writes, and undoing them would only make the next caller
        find and write them again. Any other exception rolls the transaction back."""

        def unit(tx: Transaction) -> tuple[V | None, PyworkflowError | None, list[PublishedEvent]]:
            if expect is not None:
                expect(tx)
            now = (None if self._clock_given else tx.now()) or self.clock()
            self._expire_due(tx, now)
            try:
                return work(tx, now), None, tx.appended
            except PyworkflowError as refusal:
                if isinstance(refusal, BackendError):
                    raise
                return None, refusal, tx.appended

        try:
            value, refusal, appended = self.store.run(unit, durable)
        finally:
            self._next_deadline.forget()
        if appended:
            self.publish(appended)
        if refusal is not None:
            raise refusal
        return value  # type: ignore[return-value]

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
            tx.append_events(run, [ProcessTimedOutEvent(now)])
            self._close(tx, run, ProcessTimedOut(), now)
        elif (
            run.decision == DecisionState.STARTED
            and run.decision_deadline is not None
            and run.decision_deadline <= now
        ):
            tx.append_events(run, [DecisionTimedOutEvent(now)])
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
            root_id=parent.root_id if parent else process_id,
        )
        tx.insert_process(run)
        tx.append_events(run, [ProcessStartedEvent(now)])
        return run

    def _deliver(self, tx: Transaction, run: ProcessRecord, event: Event, now: datetime) -> None:
        """Append an event that the decider must see, and make sure it gets to see it."""
        tx.append_events(run, [event])
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
        tx.append_events(run, [ProcessTerminatedEvent(reason, details, now)])
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

        def purge(tx: Transaction, now: datetime) -> int:
            cutoff = now - older_than
            runs = [
                run for run in tx.purgeable_runs(cutoff, workflow, limit) if _purgeable(run, cutoff)
            ]
            for run in runs:
                tx.delete_run(run.run_id)
                self.histories.forget(run.run_id)
            return len(runs)

        return self._transact(purge)

    def count_purgeable(self, older_than: timedelta, workflow: str | None) -> int:
        return self._transact(lambda tx, now: tx.count_purgeable(now - older_than, workflow))

    def count_processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        statuses = _statuses(status)
        self._expire_if_due()

        def count(tx: Transaction) -> int:
            if tag is not None:
                return len(tx.list_runs(workflow, tag, statuses))
            return tx.count_runs(workflow, statuses)

        return self.store.read(count)

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
            return self.count_purgeable(age, workflow)
        purged = 0
        while limit is None or purged < limit:
            batch = PURGE_BATCH if limit is None else min(PURGE_BATCH, limit - purged)
            done = self.purge_closed(age, workflow, batch)
            purged += done
            if done < batch:
                break
        return purged

    def purge_lock(self) -> AbstractContextManager[bool]:
        return self.store.purge_lock()

    def vacuum(self) -> bool:
        return self.store.vacuum()


def _not_before(now: datetime, earlier: datetime) -> datetime:
    """A claim's moment, kept from falling before what it claims: ``now`` was read
    when the call began, and on PostgreSQL a transaction that committed after that
    (the decision that scheduled the task, an event of the run) may be what the
    claim found. Event times then still follow the order of the history."""
    return earlier if earlier > now else now


def _then(
    first: Callable[[Transaction, datetime], None],
    then: Callable[[Transaction, datetime], V | None],
) -> Callable[[Transaction, datetime], V | None]:
    """Two units of work as one transaction: a report, then the worker's next claim.
    A refused report raises before the claim, so a refusal never claims. A claim
    the rules refuse (a history this code cannot decode) claims nothing and leaves
    the report to stand: raised here, it would tell the worker its recorded report
    failed; the next poll meets it and says so as a poll's failure."""

    def both(tx: Transaction, now: datetime) -> V | None:
        first(tx, now)
        try:
            return then(tx, now)
        except PyworkflowError as refusal:
            if isinstance(refusal, BackendError):
                raise
            return None

    return both


def _run_of(task: DecisionTask) -> Callable[[Transaction], None]:
    """What a report of ``task`` reads first: its run."""
    return lambda tx: tx.expect_run(str(task.context.get("run_id")))


def _activity_of(task: ActivityTask) -> Callable[[Transaction], None]:
    """What a report of ``task`` reads first: its activity (and run)."""
    run_id, activity_id = str(task.context.get("run_id")), task.activity_execution.id
    return lambda tx: tx.expect_activity(run_id, activity_id)


def _claim_of(kind: str, poll: Poll) -> Callable[[Transaction], None]:
    """What a claim reads first: the next task ``poll`` asks for."""
    return lambda tx: tx.expect_claim(kind, poll.category, poll.names, poll.root_process)


def _decision_task(run: ProcessRecord, history: list[Event]) -> DecisionTask:
    """What a worker is handed for ``run``'s claimed decision."""
    context = {
        "run_id": run.run_id,
        "token": run.decision_token,
        "attempt": run.decision_failures + 1,
    }
    return DecisionTask(_as_process(run, history), context=context)


def _activity_task(activity: ActivityRecord) -> ActivityTask:
    """What a worker is handed for a claimed activity."""
    context = {"run_id": activity.run_id, "token": activity.token, "attempt": activity.attempt}
    return ActivityTask(activity.execution, process_id=activity.process_id, context=context)


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


def checked_result(result: ActivityResult) -> ActivityResult:
    """``result`` with its payloads as JSON carries them, or an error naming the
    failing path (``result.result``); every backend reports an activity the same way."""
    return _with_payloads(result, {name: f"result.{name}" for name in result._fields})


def check_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """:func:`_check_decisions` for a backend that applies no rules of its own (SWF),
    so its errors name the decision's position and field as the engine's do."""
    return _check_decisions(decisions)


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
