"""The rows a store keeps: what the engine reads and writes, and nothing it derives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..activity import ActivityExecution
from ..decision import Timer
from ..process import ProcessResult, ProcessStatus


@dataclass(frozen=True)
class WorkflowType:
    name: str
    category: str
    timeout: float
    decision_timeout: float


@dataclass(frozen=True)
class ActivityType:
    name: str
    category: str
    scheduled_timeout: float
    execution_timeout: float
    heartbeat_timeout: float


class DecisionState:
    """Where a process's one decision task stands: none, waiting, or held by a decider."""

    NONE = "none"
    SCHEDULED = "scheduled"
    STARTED = "started"


@dataclass
class ProcessRecord:
    """One run of a process. ``process_id`` is unique among open runs; a closed run
    keeps its history, and ContinueAsNew opens a new run under the same id."""

    run_id: str
    process_id: str
    workflow: str
    category: str
    decision_timeout: float
    started_at: datetime
    input: Any = None
    tags: list[str] = field(default_factory=list)
    parent_id: str | None = None
    parent_run: str | None = None
    child_policy: str = "ABANDON"
    status: str = ProcessStatus.OPEN
    result: ProcessResult | None = None
    closed_at: datetime | None = None
    timeout_at: datetime | None = None
    decision: str = DecisionState.NONE
    decision_ready_at: datetime | None = None
    decision_token: str | None = None
    decision_deadline: datetime | None = None
    decision_again: bool = False
    decision_failures: int = 0
    decision_attempts: int = 0
    #: The process id at the top of this run's tree of parents: a claim may be
    #: limited to one tree (``pyworkflow process run`` drives only its own).
    root_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == ProcessStatus.OPEN

    def release_decision(self, next_at: datetime | None) -> None:
        """Drop the decider's hold; offer the next decision at ``next_at``, or none."""
        self.decision = DecisionState.SCHEDULED if next_at else DecisionState.NONE
        self.decision_ready_at = next_at
        self.decision_token = None
        self.decision_deadline = None
        self.decision_again = False

    @property
    def due_at(self) -> datetime | None:
        """The earliest moment the engine must act on this run without being asked:
        the run's timeout, or the deadline of the decision task a decider holds."""
        candidates = [self.timeout_at]
        if self.decision == DecisionState.STARTED:
            candidates.append(self.decision_deadline)
        present = [moment for moment in candidates if moment is not None]
        return min(present) if present else None

    @property
    def decision_delayed_until(self) -> datetime | None:
        """When a decision held back after a failure becomes ready; None for one that
        was ready when scheduled (nothing needs to wake for it: its write did)."""
        if self.decision == DecisionState.SCHEDULED and self.decision_failures > 0:
            return self.decision_ready_at
        return None

    @property
    def wake_at(self) -> datetime | None:
        """The earliest moment a worker must look at this run though nobody wrote:
        a deadline, or a delayed decision becoming ready. Stores index it, so an idle
        worker knows exactly how long it may sleep."""
        present = [m for m in (self.due_at, self.decision_delayed_until) if m is not None]
        return min(present) if present else None


class ActivityState:
    SCHEDULED = "scheduled"
    STARTED = "started"


@dataclass
class ActivityRecord:
    """One open activity execution; it is deleted when its result is recorded."""

    run_id: str
    process_id: str
    activity_id: str
    activity: str
    category: str
    scheduled_at: datetime
    schedule_deadline: datetime
    execution_timeout: float
    heartbeat_timeout: float
    input: Any = None
    state: str = ActivityState.SCHEDULED
    token: str | None = None
    attempt: int = 0
    started_at: datetime | None = None
    execution_deadline: datetime | None = None
    heartbeat_deadline: datetime | None = None
    cancel_requested: bool = False
    root_id: str | None = None

    @property
    def execution(self) -> ActivityExecution:
        return ActivityExecution(self.activity, self.activity_id, self.input)

    @property
    def due_at(self) -> datetime:
        if self.state == ActivityState.SCHEDULED:
            return self.schedule_deadline
        assert self.execution_deadline is not None and self.heartbeat_deadline is not None
        return min(self.execution_deadline, self.heartbeat_deadline)

    def expired_timeout(self) -> str:
        """Which timeout ran out, named as the Activity attribute that set it."""
        if self.state == ActivityState.SCHEDULED:
            return "scheduled_timeout"
        assert self.execution_deadline is not None and self.heartbeat_deadline is not None
        if self.heartbeat_deadline < self.execution_deadline:
            return "heartbeat_timeout"
        return "execution_timeout"


@dataclass
class TimerRecord:
    run_id: str
    timer_id: str
    timer: Timer
    due_at: datetime
