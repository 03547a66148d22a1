"""Retries applied on the decider's side, so they work the same on every backend.

A backend knows only the decisions it always knew. When an attempt of an activity
with a :class:`~pyworkflow.retry.RetryPolicy` fails, the decision worker records a
``Timer`` named after the activity and the next attempt; when it fires, it schedules
the activity again under a derived id (Amazon SWF never reuses an activity id).

The workflow's ``decide()`` reads a history in which that bookkeeping appears as
``ActivityAttemptFailed``, ``ActivityRetryScheduled`` and ``ActivityAttemptScheduled``
events under the activity's own id, and in which the activity ends with exactly one
``ActivityEvent``: its final outcome. Everything is derived from the recorded history,
so a replay reaches the same decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .activity import Activity, ActivityCanceled, ActivityExecution
from .decision import CancelActivity, CancelTimer, Decision, ScheduleActivity, Timer
from .events import (
    ActivityAttemptFailed,
    ActivityAttemptScheduled,
    ActivityEvent,
    ActivityRetryScheduled,
    ActivityStartedEvent,
    DecisionEvent,
    Event,
)
from .process import Process
from .retry import RetryPolicy

RETRY_TIMER = "pyworkflow.retry."
CANCEL_TIMER = "pyworkflow.retry-canceled."
BOOKKEEPING = {
    "activity_started",
    ActivityAttemptFailed.type,
    ActivityRetryScheduled.type,
    ActivityAttemptScheduled.type,
}

RUNNING, NEEDS_TIMER, WAITING, NEEDS_SCHEDULE, CANCELING, DONE = range(6)


def attempt_id(activity_id: str, attempt: int) -> str:
    """The id attempt number ``attempt`` runs under; the first keeps the decider's id."""
    return activity_id if attempt == 1 else f"{activity_id}.attempt{attempt}"


class _Retried:
    """One activity under a retry policy, as far as the history tells."""

    def __init__(self, schedule: ScheduleActivity, policy: RetryPolicy) -> None:
        self.schedule = schedule
        self.policy = policy
        self.execution = ActivityExecution(schedule.activity, schedule.id, schedule.input)
        self.attempt = 1
        self.running_id = schedule.id
        self.state = RUNNING
        self.delay = 0.0
        self.timer_id: str | None = None
        self.cancel_requested = False

    @property
    def id(self) -> str:
        return self.schedule.id

    def next_step(self) -> Decision | None:
        """The bookkeeping decision this activity is waiting for, if any."""
        following = self.attempt + 1
        if self.state == NEEDS_TIMER:
            return Timer(
                self.delay,
                data={"activity_id": self.id, "attempt": following},
                id=f"{RETRY_TIMER}{following}.{self.id}",
            )
        if self.state == NEEDS_SCHEDULE:
            return ScheduleActivity(
                self.schedule.activity,
                id=attempt_id(self.id, following),
                category=self.schedule.category,
                input=self.schedule.input,
            )
        return None


class RetryView:
    """A raw history read once: the history ``decide()`` is shown, and the state of
    every retried activity."""

    def __init__(
        self, process: Process, policies: Callable[[ScheduleActivity], RetryPolicy | None]
    ) -> None:
        self.process = process
        self._policy_of = policies
        self.activities: dict[str, _Retried] = {}
        self._by_attempt: dict[str, _Retried] = {}
        self.history = [shown for event in process.history for shown in self._show(event)]

    @property
    def involved(self) -> bool:
        return bool(self.activities)

    def view(self) -> Process:
        """The process as ``decide()`` sees it."""
        if not self.involved:
            return self.process
        p = self.process
        return Process(
            workflow=p.workflow,
            id=p.id,
            input=p.input,
            tags=p.tags,
            history=self.history,
            parent=p.parent,
            status=p.status,
            result=p.result,
            started_at=p.started_at,
            closed_at=p.closed_at,
        )

    def bookkeeping(self) -> list[Decision]:
        steps = [retried.next_step() for retried in self.activities.values()]
        return [step for step in steps if step is not None]

    def translate(self, decision: Decision) -> list[Decision]:
        """A decision of ``decide()`` as the backend must receive it: canceling a
        retried activity reaches its current attempt, or ends its wait."""
        if not isinstance(decision, CancelActivity):
            return [decision]
        retried = self.activities.get(str(decision.id))
        if retried is None or retried.state in (DONE, CANCELING):
            return [decision]
        if retried.state == RUNNING:
            return [CancelActivity(retried.running_id)]
        stop: list[Decision] = []
        if retried.state == WAITING and retried.timer_id:
            stop.append(CancelTimer(retried.timer_id))
        retried.state = CANCELING  # no bookkeeping for it in this decision
        stop.append(Timer(0, data={"activity_id": retried.id}, id=f"{CANCEL_TIMER}{retried.id}"))
        return stop

    # -- reading the raw history ----------------------------------------------------------

    def _show(self, event: Event) -> list[Event]:
        e: Any = event
        if event.type == "decision":
            return self._show_decision(e)
        if event.type in ("activity_started", "activity"):
            retried = self._by_attempt.get(e.activity_execution.id)
            if retried is None or retried.running_id != e.activity_execution.id:
                return [event]
            if event.type == "activity":
                return [self._ended(retried, e)]
            if retried.attempt == 1:
                return [event]
            return [ActivityStartedEvent(retried.execution, e.datetime)]
        if event.type == "timer" and isinstance(e.timer.id, str):
            retried = self._retried_by_timer(e.timer)
            if e.timer.id.startswith(RETRY_TIMER):
                if retried is not None and retried.state == WAITING:
                    retried.state = NEEDS_SCHEDULE
                return []
            if e.timer.id.startswith(CANCEL_TIMER):
                if retried is None or retried.state != CANCELING:
                    return []
                retried.state = DONE
                canceled = ActivityCanceled("canceled while waiting to retry")
                return [ActivityEvent(retried.execution, canceled, e.datetime)]
        return [event]

    def _show_decision(self, event: DecisionEvent) -> list[Event]:
        decision = event.decision
        when = event.datetime
        if isinstance(decision, ScheduleActivity):
            retried = self._by_attempt.get(decision.id)
            if (
                retried is not None
                and retried.state == NEEDS_SCHEDULE
                and decision.id == attempt_id(retried.id, retried.attempt + 1)
            ):
                retried.attempt += 1
                retried.running_id = decision.id
                retried.state = RUNNING
                return [ActivityAttemptScheduled(retried.execution, retried.attempt, when)]
            policy = self._policy_of(decision)
            if policy is not None and policy.max_attempts > 1:
                retried = _Retried(decision, policy)
                self.activities[decision.id] = retried
                self._by_attempt[decision.id] = retried
                for attempt in range(2, policy.max_attempts + 1):
                    self._by_attempt[attempt_id(decision.id, attempt)] = retried
            return [event]
        if isinstance(decision, Timer) and isinstance(decision.id, str):
            retried = self._retried_by_timer(decision)
            if decision.id.startswith(RETRY_TIMER):
                if retried is not None and retried.state == NEEDS_TIMER:
                    retried.state = WAITING
                    retried.timer_id = decision.id
                    following = retried.attempt + 1
                    wait = decision.delay
                    return [ActivityRetryScheduled(retried.execution, following, wait, when)]
                return []
            if decision.id.startswith(CANCEL_TIMER):
                if retried is None:
                    return []
                retried.state = CANCELING
                return [DecisionEvent(CancelActivity(retried.id), when)]
        if isinstance(decision, CancelTimer) and str(decision.id).startswith(RETRY_TIMER):
            return []
        if isinstance(decision, CancelActivity):
            retried = self._by_attempt.get(str(decision.id))
            if retried is not None:
                retried.cancel_requested = True
                return [DecisionEvent(CancelActivity(retried.id), when)]
        return [event]

    def _ended(self, retried: _Retried, event: ActivityEvent) -> Event:
        result = event.result
        if not retried.cancel_requested and retried.policy.retries(result, retried.attempt):
            retried.state = NEEDS_TIMER
            seed = f"{self.process.id}/{retried.id}"
            retried.delay = retried.policy.delay(retried.attempt, seed)
            return ActivityAttemptFailed(retried.execution, retried.attempt, result, event.datetime)
        retried.state = DONE
        if retried.attempt == 1:
            return event
        return ActivityEvent(retried.execution, result, event.datetime)

    def _retried_by_timer(self, timer: Timer) -> _Retried | None:
        data = timer.data if isinstance(timer.data, dict) else {}
        return self.activities.get(str(data.get("activity_id")))


def policy_lookup(
    activities: Mapping[str, type[Activity]],
) -> Callable[[ScheduleActivity], RetryPolicy | None]:
    """The policy a ScheduleActivity runs under: its own, else its activity class's."""

    # A history repeats one policy many times: build each distinct one once.
    built: dict[tuple[Any, ...], RetryPolicy | None] = {}

    def policy_of(decision: ScheduleActivity) -> RetryPolicy | None:
        if decision.retry is None:
            return getattr(activities.get(decision.activity), "retry", None)
        key = tuple(
            (name, tuple(value) if isinstance(value, list) else value)
            for name, value in sorted(decision.retry.items())
        )
        if key not in built:
            built[key] = decision.retry_policy
        return built[key]

    return policy_of


def decide_with_retries(
    decide: Callable[[Process], Sequence[Decision]],
    process: Process,
    activities: Mapping[str, type[Activity]],
) -> list[Decision]:
    """Run ``decide`` on the retry-aware view of ``process`` and add the bookkeeping
    decisions its retried activities need. ``decide`` is not called when the only
    news is bookkeeping: a failure that will be retried is not the workflow's concern."""
    view = RetryView(process, policy_lookup(activities))
    if not view.involved:
        return list(decide(process))
    shown = view.view()
    # The decider's own decisions are in unseen_events() (as in 2014), but no news.
    news = [event for event in shown.unseen_events() if event.type != "decision"]
    if news and all(event.type in BOOKKEEPING for event in news):
        return view.bookkeeping()
    decided = [d for decision in decide(shown) for d in view.translate(decision)]
    if any(decision.closes_process for decision in decided):
        return decided
    return view.bookkeeping() + decided
