"""Workers: poll a manager for tasks, run them, report back; wait cheaply when idle.

``run()`` blocks until ``stop()`` is called (from a signal handler or another
thread); the task in hand is always finished and reported first. A busy
worker's report claims its next task in the same call, where the backend can
(``Manager.complete_and_next``): one transaction per task instead of two.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any
from uuid import uuid4

from .activity import (
    Activity,
    ActivityCompleted,
    ActivityFailed,
    ActivityMonitor,
    ActivityResult,
    InterruptedActivityResult,
)
from .defaults import Defaults
from .exceptions import (
    BackendError,
    InvalidPayloadError,
    PyworkflowError,
    UnknownResourceException,
)
from .hooks import Outcome, TaskInfo, WorkerHook, run_with_hooks
from .manager import Manager
from .purging import Purger
from .reporting import (
    DEFAULT_STOP_GRACE,
    ReportAbandoned,
    Reporter,
    activity_result_recorded,
    decision_recorded,
)
from .retrying import decide_with_retries
from .task import ActivityTask, DecisionTask, Task
from .workflow import normalize_decisions

LOG = logging.getLogger("pyworkflow.worker")

MIN_IDLE_WAIT = 0.005
MAX_IDLE_WAIT = 1.0
MAX_HEARTBEAT_INTERVAL = 1.0
STOP_CHECK_INTERVAL = 0.1


class ThrottledHeartbeat:
    """Sends at most one heartbeat per ``interval`` seconds and answers the rest from
    the last reply: an activity may call ``heartbeat()`` in a tight loop, and each
    one that reaches the backend is a write.

    A heartbeat that cannot reach the backend is not the activity's failure: it is
    logged (by ``on_error``) and the next one, an interval later, tries again. Only
    the backend's answers (cancel requested, task gone) reach the activity."""

    def __init__(
        self,
        send: Callable[[], bool],
        interval: float,
        on_error: Callable[[BackendError], None] | None = None,
    ) -> None:
        self._send = send
        self._interval = interval
        self._on_error = on_error
        self._last_sent: float | None = None
        self._cancel_requested = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self._last_sent is None or now - self._last_sent >= self._interval:
            self._last_sent = now
            try:
                self._cancel_requested = self._send()
            except UnknownResourceException:
                raise
            except BackendError as error:
                if self._on_error is None:
                    raise
                self._on_error(error)
        return self._cancel_requested


class Worker:
    kind = "worker"
    default_category = Defaults.ACTIVITY_CATEGORY

    def __init__(
        self,
        manager: Manager,
        name: str | None = None,
        category: str | None = None,
        logger: logging.Logger | None = None,
        max_idle_wait: float = MAX_IDLE_WAIT,
        hooks: Sequence[WorkerHook] = (),
        root_process: str | None = None,
        stop_grace: float = DEFAULT_STOP_GRACE,
    ) -> None:
        self.manager = manager
        self.hooks = list(hooks)
        # Only tasks of this process and its children, for a command driving just one.
        self.root_process = root_process
        if manager.backend.retention is not None and not any(
            isinstance(hook, Purger) for hook in self.hooks
        ):
            # Every worker offers to purge; the backend's purge lock lets one at a time.
            self.hooks.append(Purger(manager.backend, logger=logger))
        self.name = name or str(uuid4())
        self.category = category or self.default_category
        self.logger = logger or LOG
        self.max_idle_wait = max_idle_wait
        self._stop = threading.Event()
        self._stopped_at: float | None = None
        self.stop_grace = stop_grace
        self._count_lock = threading.Lock()
        self.tasks_handled = 0
        self._max_tasks: int | None = None
        # Per thread of run(): whether its last step found a task (a backlog), and
        # the task its last report claimed.
        self._local = threading.local()

    def step(self) -> bool:
        """Poll once and handle what came; True when a task was handled."""
        raise NotImplementedError

    def stop(self) -> None:
        """Poll no more; the task in hand is finished and reported (its report is
        retried through backend failures for ``stop_grace`` seconds more), and so
        is a task its report had already claimed, which no one else can run
        until its claim times out."""
        if self._stopped_at is None:
            self._stopped_at = time.monotonic()
        self._stop.set()

    @property
    def reporter(self) -> Reporter:
        """Delivers this worker's reports, logging to its logger of the moment."""
        return Reporter(self.logger, self._stopped_for, self.stop_grace)

    def _stopped_for(self) -> float | None:
        stopped_at = self._stopped_at
        return None if stopped_at is None else time.monotonic() - stopped_at

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, max_tasks: int | None = None, exit_when_idle: bool = False) -> int:
        """Handle tasks until stopped (or ``max_tasks`` handled, or idle when asked)."""
        self._loop(max_tasks, exit_when_idle)
        return self.tasks_handled

    def _loop(self, max_tasks: int | None, exit_when_idle: bool) -> None:
        self.logger.info("worker started", extra=self._fields())
        self._max_tasks = max_tasks
        try:
            self._poll_until_done(exit_when_idle)
        finally:
            self._local.backlog = False
        self.logger.info("worker stopped", extra=self._fields(tasks=self.tasks_handled))

    def _poll_until_done(self, exit_when_idle: bool) -> None:
        max_tasks = self._max_tasks
        wait = MIN_IDLE_WAIT
        handled = False
        while True:
            # A task found straight after another, with no wait between, tells of a
            # backlog: only then does its report claim ahead. A lone task, found
            # after a wait, has nothing behind it, and the claim would be a wasted
            # statement on the path of its process's latency.
            self._local.backlog = handled
            # A task claimed along with the last report is in hand: it was reserved
            # against max_tasks when claimed, and is run even by a stopping worker.
            if not self._holds_claimed() and (
                self._stop.is_set() or (max_tasks is not None and not self._reserve(max_tasks))
            ):
                break
            try:
                handled = self.step()
            except Exception as error:  # the storage failed: say so, back off, go on
                self.logger.error(
                    "poll failed: %s", error, extra=self._fields(error=str(error)), exc_info=True
                )
                for hook in self.hooks:
                    hook.poll_failed(self.name, self.kind, error)
                handled = False
            else:
                for hook in self.hooks:
                    hook.poll_finished(self.name, self.kind, handled)
            if max_tasks is not None and not handled:
                self._release()
            elif max_tasks is None and handled:
                self._count()
            if handled:
                wait = MIN_IDLE_WAIT
                continue
            if self._holds_claimed():
                continue  # a step that failed after its report claimed ahead: run that
            if exit_when_idle:
                break
            self._wait_idle(wait)
            wait = min(self.max_idle_wait, wait * 2)

    def _reserve(self, max_tasks: int) -> bool:
        with self._count_lock:
            if self.tasks_handled >= max_tasks:
                return False
            self.tasks_handled += 1
            return True

    def _count(self) -> None:
        with self._count_lock:
            self.tasks_handled += 1

    def _release(self) -> None:
        with self._count_lock:
            self.tasks_handled -= 1

    def _deliver_result(
        self,
        what: str,
        task: Task,
        result: Any,
        recorded: Callable[[], bool],
        fields: dict[str, Any],
    ) -> None:
        """Report ``task``'s result through passing failures; inside run()'s loop,
        claim the next task in the same call, for the next step to run without a
        poll of its own.

        Every try claims with one token chosen here. When a try committed but its
        answer was lost, the next try is refused (its result is already recorded),
        and the task the lost try claimed would be held by nobody until it timed
        out (an activity's timeouts default to a year): the token finds it."""
        claim_token = str(uuid4())
        sent = self.reporter.deliver(
            what, lambda: self._complete(task, result, claim_token), recorded, fields
        )
        if sent is None:
            self._adopt(claim_token, fields)

    def _complete(self, task: Task, result: Any, claim_token: str) -> bool:
        if not self._may_claim_next():
            self.manager.complete_task(task, result)
            return True
        claimed = None
        try:
            claimed = self.manager.complete_and_next(
                task, result, self.name, self.category, self.root_process, claim_token
            )
        finally:
            if claimed is None and self._max_tasks is not None:
                self._release()
        self._local.claimed = claimed
        return True

    def _adopt(self, claim_token: str, fields: dict[str, Any]) -> None:
        """Take in hand the task a lost answer claimed, if any: it is this worker's to
        run, past ``max_tasks`` and a stop too, as any task it claimed ahead."""
        try:
            claimed = self._claimed_with(claim_token)
        except PyworkflowError as error:  # unreachable again, or a history it cannot read
            self.logger.warning(
                "cannot take in hand the task claimed with a lost answer; it is offered "
                "again once its claim times out: %s",
                error,
                extra={**fields, "error": str(error)},
            )
            return
        if claimed is None:
            return
        if self._max_tasks is not None:
            self._count()
        self._local.claimed = claimed

    def _claimed_with(self, claim_token: str) -> Task | None:
        raise NotImplementedError

    def _may_claim_next(self) -> bool:
        """Only in run()'s loop with a backlog (a caller of step() or handle() would
        leave the claimed task unrun), not when stopping, and within max_tasks:
        then it is reserved."""
        if not getattr(self._local, "backlog", False) or self._stop.is_set():
            return False
        return self._max_tasks is None or self._reserve(self._max_tasks)

    def _holds_claimed(self) -> bool:
        return getattr(self._local, "claimed", None) is not None

    def _take_claimed(self) -> Task | None:
        task: Task | None = getattr(self._local, "claimed", None)
        self._local.claimed = None
        return task

    def _wait_idle(self, seconds: float) -> None:
        """Wait in short slices, so that ``stop()`` takes effect within one."""
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                if self.manager.backend.wait_for_work(
                    min(STOP_CHECK_INTERVAL, remaining), (self.kind, self.category)
                ):
                    return
            except Exception:
                self._stop.wait(min(STOP_CHECK_INTERVAL, remaining))

    def _fields(self, **more: Any) -> dict[str, Any]:
        return {"worker": self.name, "worker_kind": self.kind, "category": self.category, **more}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.manager!r}, {self.name!r}, {self.category!r})"


class ActivityWorker(Worker):
    """Runs activities; with ``concurrency`` > 1, that many at once, in threads."""

    kind = "activity"

    def __init__(
        self,
        manager: Manager,
        name: str | None = None,
        category: str | None = None,
        concurrency: int = 1,
        logger: logging.Logger | None = None,
        max_idle_wait: float = MAX_IDLE_WAIT,
        hooks: Sequence[WorkerHook] = (),
        root_process: str | None = None,
        stop_grace: float = DEFAULT_STOP_GRACE,
    ) -> None:
        super().__init__(
            manager, name, category, logger, max_idle_wait, hooks, root_process, stop_grace
        )
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency

    def run(self, max_tasks: int | None = None, exit_when_idle: bool = False) -> int:
        if self.concurrency == 1:
            return super().run(max_tasks, exit_when_idle)
        threads = [
            threading.Thread(
                target=self._loop, args=(max_tasks, exit_when_idle), name=f"{self.name}-{index}"
            )
            for index in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.tasks_handled

    def step(self) -> bool:
        task = self._take_claimed()
        if not isinstance(task, ActivityTask):
            task = self.manager.next_activity(self.name, self.category, self.root_process)
        if task is None:
            return False
        self.handle(task)
        return True

    def handle(self, task: ActivityTask) -> ActivityResult | None:
        execution = task.activity_execution
        info = TaskInfo(
            "activity",
            execution.activity,
            str(task.process_id),
            task.attempt,
            self.name,
            task,
            activity_id=execution.id,
        )
        reported: list[ActivityResult | None] = [None]

        def run() -> str:
            result, outcome = self._run_and_report(task)
            reported[0] = result
            return outcome

        run_with_hooks(self.hooks, info, run)
        return reported[0]

    def _run_and_report(self, task: ActivityTask) -> tuple[ActivityResult | None, str]:
        started = time.monotonic()
        fields = self._task_fields(task)
        try:
            activity = self.manager.activity_for_task(task, monitor=self._monitor(task))
            result = self.execute_activity(activity)
        except Exception as error:
            result = ActivityFailed(str(error), traceback.format_exc())
        outcome = Outcome.HANDED_OFF if result is None else _OUTCOMES[result.type]
        if result is not None:
            try:
                result = self._report(task, result, fields)
            except (ReportAbandoned, BackendError) as error:
                # Abandoned by a stopped worker, or a failure no retry can mend: the
                # task times out and is offered again. Said here, with the task named.
                fields["error"] = str(error)
                self.logger.error("activity result not recorded", extra=fields)
                return None, Outcome.REFUSED
            outcome = Outcome.REFUSED if result is None else _OUTCOMES[result.type]
        fields.update(outcome=outcome, duration_ms=round((time.monotonic() - started) * 1000, 2))
        if isinstance(result, ActivityFailed):
            fields["reason"] = result.reason
            self.logger.warning("activity failed", extra=fields)
        elif outcome == Outcome.REFUSED:
            self.logger.warning("activity result refused", extra=fields)
        else:
            self.logger.info("activity %s", outcome, extra=fields)
        return result, outcome

    def execute_activity(self, activity: Activity) -> ActivityResult | None:
        """Run ``execute``: a return value completes, a raised result reports itself,
        any other exception fails with its traceback."""
        try:
            returned = activity.execute()
        except InterruptedActivityResult as interrupted:
            return interrupted
        except Exception as error:
            return ActivityFailed(str(error), traceback.format_exc())
        except SystemExit as exit:
            # sys.exit() in activity code must not end the worker, silently and with 0.
            return ActivityFailed(
                f"activity called sys.exit({exit.code!r})", traceback.format_exc()
            )
        if isinstance(returned, ActivityResult):
            return returned
        if activity.auto_complete:
            return ActivityCompleted(returned)
        return None

    def _report(
        self, task: ActivityTask, result: ActivityResult, fields: dict[str, Any]
    ) -> ActivityResult | None:
        try:
            try:
                self._deliver(task, result, fields)
            except InvalidPayloadError as error:
                # The activity returned something JSON cannot carry: fail it, naming why.
                result = ActivityFailed(str(error))
                self._deliver(task, result, fields)
        except UnknownResourceException as error:
            fields["refused"] = str(error)
            return None
        return result

    def _deliver(self, task: ActivityTask, result: ActivityResult, fields: dict[str, Any]) -> None:
        def recorded() -> bool:
            history = self.manager.process_by_id(str(task.process_id)).history
            return activity_result_recorded(history, task, result.type)

        self._deliver_result(f"activity {result.type} result", task, result, recorded, fields)

    def _claimed_with(self, claim_token: str) -> Task | None:
        return self.manager.claimed_activity(claim_token)

    def _monitor(self, task: ActivityTask) -> ActivityMonitor:
        activity_class = self.manager.activities.get(task.activity_execution.activity)
        timeout = activity_class.heartbeat_timeout if activity_class else MAX_HEARTBEAT_INTERVAL
        interval = min(MAX_HEARTBEAT_INTERVAL, timeout / 4)
        fields = self._task_fields(task)

        def heartbeat_failed(error: BackendError) -> None:
            self.logger.warning(
                "heartbeat not recorded, trying again at the next one: %s",
                error,
                extra={**fields, "error": str(error)},
            )

        heartbeat = ThrottledHeartbeat(
            lambda: self.manager.heartbeat(task), interval, on_error=heartbeat_failed
        )
        return ActivityMonitor(heartbeat)

    def _task_fields(self, task: ActivityTask) -> dict[str, Any]:
        return self._fields(
            process_id=task.process_id,
            activity=task.activity_execution.activity,
            activity_id=task.activity_execution.id,
            attempt=task.attempt,
        )


class DecisionWorker(Worker):
    """Runs deciders. A decider that raises, or returns something that is not a
    decision, is recorded as a decision failure and offered again after a backoff."""

    kind = "decision"
    default_category = Defaults.DECISION_CATEGORY

    def step(self) -> bool:
        task = self._take_claimed()
        if not isinstance(task, DecisionTask):
            task = self.manager.next_decision(self.name, self.category, self.root_process)
        if task is None:
            return False
        self.handle(task)
        return True

    def decide(self, task: DecisionTask) -> list[Any]:
        """The workflow's decisions, with the retries of its activities applied
        (see :mod:`pyworkflow.retrying`)."""
        workflow = self.manager.workflow_for_task(task)
        return decide_with_retries(
            lambda process: normalize_decisions(workflow.decide(process), process),
            task.process,
            self.manager.activities,
        )

    def handle(self, task: DecisionTask) -> None:
        process = task.process
        info = TaskInfo(
            "decision", str(process.workflow), str(process.id), task.attempt, self.name, task
        )
        run_with_hooks(self.hooks, info, lambda: self._decide_and_report(task))

    def _decide_and_report(self, task: DecisionTask) -> str:
        started = time.monotonic()
        fields = self._fields(
            process_id=task.process.id, workflow=task.process.workflow, attempt=task.attempt
        )
        outcome = Outcome.FAILED
        try:
            # Anything decide() raises is a decision failure, even an unknown-resource
            # error (an unregistered workflow, a lookup inside the decider): only the
            # backend refusing the completion below means the task is no longer ours.
            decisions = self.decide(task)
        except Exception as error:
            decisions = None
            fields["error"] = str(error)
            self._fail(task, error)
        if decisions is not None:
            try:
                self._deliver(task, decisions, fields)
                outcome = Outcome.COMPLETED
                fields["decisions"] = [decision.type for decision in decisions]
            except UnknownResourceException as error:
                outcome = Outcome.REFUSED
                fields["error"] = str(error)
            except ReportAbandoned as error:
                outcome = Outcome.REFUSED
                fields["error"] = str(error)
            except Exception as error:
                fields["error"] = str(error)
                self._fail(task, error)
        # Log lines have always said "decided" for a recorded decision.
        fields["outcome"] = "decided" if outcome == Outcome.COMPLETED else outcome
        fields["duration_ms"] = round((time.monotonic() - started) * 1000, 2)
        level = logging.INFO if outcome == Outcome.COMPLETED else logging.WARNING
        self.logger.log(level, "decision %s", fields["outcome"], extra=fields)
        return outcome

    def _deliver(self, task: DecisionTask, decisions: list[Any], fields: dict[str, Any]) -> None:
        def recorded() -> bool:
            return decision_recorded(self._history(task), task)

        self._deliver_result("decisions", task, decisions, recorded, fields)

    def _claimed_with(self, claim_token: str) -> Task | None:
        return self.manager.claimed_decision(claim_token)

    def _fail(self, task: DecisionTask, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        details = traceback.format_exc()
        fields = self._fields(process_id=task.process.id, workflow=task.process.workflow)
        # Refused: it timed out meanwhile; abandoned: the worker stopped. Either way
        # the task is offered again after its timeout.
        try:
            with contextlib.suppress(UnknownResourceException):
                self.reporter.deliver(
                    "decision failure",
                    lambda: self.manager.fail_decision(task, reason, details),
                    lambda: decision_recorded(self._history(task), task, failed=True),
                    fields,
                )
        except (ReportAbandoned, BackendError) as failure:
            self.logger.error(
                "decision failure not recorded", extra={**fields, "error": str(failure)}
            )

    def _history(self, task: DecisionTask) -> list[Any]:
        return self.manager.process_by_id(str(task.process.id)).history


_OUTCOMES = {
    "completed": Outcome.COMPLETED,
    "failed": Outcome.FAILED,
    "canceled": Outcome.CANCELED,
    "timedout": Outcome.TIMED_OUT,
}


class WorkerThread(threading.Thread):
    """Runs a worker in a daemon thread; ``join()`` stops it first, as in 2014."""

    def __init__(self, worker: Worker, logger: logging.Logger | None = None) -> None:
        super().__init__(name=f"pyworkflow-{worker.kind}-{worker.name}", daemon=True)
        self.worker = worker
        if logger is not None:
            worker.logger = logger

    def run(self) -> None:
        self.worker.run()

    def stop(self) -> None:
        self.worker.stop()

    def join(self, timeout: float | None = None) -> None:
        self.worker.stop()
        super().join(timeout)
