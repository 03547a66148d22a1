"""The Backend contract: what Manager needs from wherever processes live.

Polls return None at once when nothing is due; waiting is the workers' job,
helped by ``wait_for_work``, which a backend can make wake early on new work.
What a backend records it publishes to its observers (:mod:`pyworkflow.observe`)
after the fact is durable, so wrappers and metrics never re-read histories.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any, TypeVar

from ..activity import ActivityResult
from ..decision import Decision
from ..defaults import Defaults
from ..exceptions import NotSupportedError
from ..observe import Observer, Observers, PublishedEvent
from ..process import Process
from ..task import ActivityTask, DecisionTask, Poll

B = TypeVar("B", bound="Backend")

#: A task list: a worker's kind (``"decision"`` or ``"activity"``) and its category.
TaskList = tuple[str, str]
#: Not a worker's list: what a watcher waiting for processes to end passes to
#: ``wait_for_work``, to be woken by writes that closed a run and by no other.
RUNS_CLOSED: TaskList = ("closed", "runs")


class Backend(ABC):
    @abstractmethod
    def register_workflow(
        self,
        name: str,
        category: str = Defaults.DECISION_CATEGORY,
        timeout: float = Defaults.WORKFLOW_TIMEOUT,
        decision_timeout: float = Defaults.DECISION_TIMEOUT,
    ) -> None: ...

    @abstractmethod
    def register_activity(
        self,
        name: str,
        category: str = Defaults.ACTIVITY_CATEGORY,
        scheduled_timeout: float = Defaults.ACTIVITY_SCHEDULED_TIMEOUT,
        execution_timeout: float = Defaults.ACTIVITY_EXECUTION_TIMEOUT,
        heartbeat_timeout: float = Defaults.ACTIVITY_HEARTBEAT_TIMEOUT,
    ) -> None: ...

    @abstractmethod
    def start_process(self, process: Process) -> str:
        """Start ``process``; its id if it has one (unique among open processes), else a uuid."""

    @abstractmethod
    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None: ...

    @abstractmethod
    def cancel_process(self, process_id: str, details: Any = None) -> None:
        """Close the process at once as canceled, with its activities and children per policy."""

    @abstractmethod
    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        """Ask the process's decider to cancel; it sees a CancelRequestedEvent and chooses."""

    @abstractmethod
    def terminate_process(
        self, process_id: str, reason: Any = None, details: Any = None
    ) -> None: ...

    @abstractmethod
    def process_by_id(self, process_id: str) -> Process:
        """The open run of ``process_id``, else its latest closed one."""

    def process_runs(self, process_id: str) -> list[Process]:
        """Every run of ``process_id``, oldest first: a reused id (a process closed,
        then started again) and ContinueAsNew give several. A backend that keeps
        only the latest run answers with that one."""
        return [self.process_by_id(process_id)]

    @abstractmethod
    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        """Processes filtered by workflow name, tag and status: a status name, 'closed' or 'all'."""

    @abstractmethod
    def poll_activity_task(
        self,
        category: str = Defaults.ACTIVITY_CATEGORY,
        identity: str | None = None,
        activities: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        """Claim the oldest activity task of ``category``; with ``activities``, only
        one of those names, so a worker never takes a task it has no code for; with
        ``root_process``, only one of that process or of the children it started."""

    @abstractmethod
    def poll_decision_task(
        self,
        category: str = Defaults.DECISION_CATEGORY,
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        """Claim a due decision task of ``category``; with ``workflows``, only for those;
        with ``root_process``, only of that process or of the children it started."""

    @abstractmethod
    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        """Record a sign of life; True when cancellation of the task was requested."""

    @abstractmethod
    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None: ...

    @abstractmethod
    def complete_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision]
    ) -> None:
        """Record the decider's decisions: one, or a list, as ``decide()`` may return."""

    def complete_and_claim_activity_task(
        self, task: ActivityTask, result: ActivityResult, poll: Poll
    ) -> ActivityTask | None:
        """Record ``result`` and, where this backend can do both in one transaction,
        claim the worker's next task as ``poll`` asks: a busy worker then pays one
        commit and one round trip per task instead of two, and takes the write lock
        half as often. None when nothing was claimed: the worker polls as usual.
        This base only completes; a refused report claims nothing either way."""
        self.complete_activity_task(task, result)
        return None

    def complete_and_claim_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision], poll: Poll
    ) -> DecisionTask | None:
        """Record ``decisions`` and claim the next decision task as ``poll`` asks,
        in one transaction where the backend can (see ``complete_and_claim_activity_task``)."""
        self.complete_decision_task(task, decisions)
        return None

    def claimed_decision_task(self, token: str) -> DecisionTask | None:
        """The decision task a ``complete_and_claim_decision_task`` claimed with
        ``poll.claim_token == token``, while it is still claimed so: the worker's way
        back to it when the call's answer was lost after it committed. This base
        never claims along with a report, so it has none."""
        return None

    def claimed_activity_task(self, token: str) -> ActivityTask | None:
        """As ``claimed_decision_task``, for an activity task."""
        return None

    @abstractmethod
    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        """The decider could not decide: record it, and offer the task again after a backoff."""

    def wait_for_work(self, timeout: float, task_list: TaskList | None = None) -> bool:
        """Block up to ``timeout`` seconds; True as soon as work may be ready (a write
        by another worker, a deadline reached), False when the time passed quietly.

        ``task_list`` (a worker's kind, ``"decision"`` or ``"activity"``, and its
        category; or ``RUNS_CLOSED``, for a watcher waiting for processes to end)
        lets a backend that can tell wake the caller only for writes that concern
        that list; without it, any write that gave work or closed a run wakes.

        This base knows of no wake-up: it sleeps, and the caller's backoff decides
        when to poll again."""
        time.sleep(timeout)
        return False

    # -- retention: engine backends keep closed processes for a set time ----------------

    #: How long a closed process is kept before workers purge it; None keeps it forever.
    retention: timedelta | None = None

    def purge(
        self,
        older_than: timedelta | str,
        workflow: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
    ) -> int:
        """Forget the processes that closed more than ``older_than`` ago (of
        ``workflow`` only, when given), with everything they own; how many (with
        ``dry_run``, how many would go). Never an open process. ``limit`` stops
        after about that many, for a purger that must not hold its worker long."""
        raise NotSupportedError(
            f"{type(self).__name__} does not purge closed processes: "
            "its own retention rules decide how long they are kept"
        )

    def purge_lock(self) -> AbstractContextManager[bool]:
        """Held by one purger at a time among all workers of this storage: True when
        the caller got it. A backend that does not purge has nothing to guard."""
        return contextlib.nullcontext(False)

    def vacuum(self) -> bool:
        """Give the space purged processes took back to the file system, where the
        storage must be asked to (SQLite); False where it does so itself or never."""
        return False

    def count_processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        """How many processes ``processes`` would list, without loading them where
        the backend can count."""
        return len(self.processes(workflow=workflow, tag=tag, status=status))

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections; the backend is not used afterwards."""

    def __enter__(self: B) -> B:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- observers: every backend has them, whatever keeps its rules ----------------

    @property
    def observers(self) -> Observers:
        # Made on first use, so a subclass need not remember to call __init__.
        observers = self.__dict__.get("_observers")
        if observers is None:
            observers = self.__dict__.setdefault("_observers", Observers())
        return observers

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer`` with each batch of events this backend records, after
        they are durable, in the order they were recorded within each run."""
        self.observers.add(observer)

    def remove_observer(self, observer: Observer) -> None:
        self.observers.remove(observer)

    def publish(self, events: Sequence[PublishedEvent]) -> None:
        """Hand recorded events to the observers; for backends and wrappers to call."""
        self.observers.publish(events)
