"""Manager: links a backend to the workflow and activity classes that run on it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from ._naming import name_of
from .activity import Activity, ActivityCompleted, ActivityMonitor, ActivityResult
from .backend.base import Backend
from .defaults import Defaults
from .exceptions import UnknownActivityException, UnknownWorkflowException
from .process import Process
from .signal import Signal
from .task import ActivityTask, DecisionTask, Poll, Task
from .workflow import Workflow, normalize_decisions


def _claim_name(registered: dict[str, Any], name: str, new: type, kind: str) -> None:
    known = registered.get(name)
    if known is not None and known is not new:
        raise ValueError(
            f"two {kind} classes are named {name!r}: {_path(known)} and {_path(new)}; "
            f"rename one, or give it a distinct `name` attribute"
        )


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _id_of(process_or_id: Any) -> str:
    return str(getattr(process_or_id, "id", process_or_id))


class Manager:
    """Registers every workflow it is given, and every activity those workflows name."""

    def __init__(self, backend: Backend, workflows: Iterable[type[Workflow]] = ()) -> None:
        self._backend = backend
        self._workflows: dict[str, type[Workflow]] = {}
        self._activities: dict[str, type[Activity]] = {}
        for workflow in workflows:
            self.register_workflow(workflow)

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def workflows(self) -> dict[str, type[Workflow]]:
        return dict(self._workflows)

    @property
    def activities(self) -> dict[str, type[Activity]]:
        return dict(self._activities)

    def register_workflow(self, workflow: type[Workflow]) -> None:
        """Register ``workflow`` and its activities. Names identify code across
        processes, so two different classes under one name are refused."""
        _claim_name(self._workflows, workflow.name, workflow, "workflow")
        for activity in workflow.activities:
            _claim_name(self._activities, activity.name, activity, "activity")
        self._workflows[workflow.name] = workflow
        self._backend.register_workflow(
            workflow.name,
            category=workflow.category,
            timeout=workflow.timeout,
            decision_timeout=workflow.decision_timeout,
        )
        for activity in workflow.activities:
            self._activities[activity.name] = activity
            self._backend.register_activity(
                activity.name,
                category=activity.category,
                scheduled_timeout=activity.scheduled_timeout,
                execution_timeout=activity.execution_timeout,
                heartbeat_timeout=activity.heartbeat_timeout,
            )

    # processes

    def start_process(self, process: Process) -> str:
        return self._backend.start_process(process)

    def signal_process(self, process_or_id: Any, signal: Signal) -> None:
        self._backend.signal_process(_id_of(process_or_id), signal.name, signal.data)

    def cancel_process(self, process_or_id: Any, details: Any = None) -> None:
        self._backend.cancel_process(_id_of(process_or_id), details=details)

    def request_cancel_process(self, process_or_id: Any, details: Any = None) -> None:
        self._backend.request_cancel_process(_id_of(process_or_id), details=details)

    def terminate_process(
        self, process_or_id: Any, reason: Any = None, details: Any = None
    ) -> None:
        self._backend.terminate_process(_id_of(process_or_id), reason=reason, details=details)

    def process_by_id(self, process_id: str) -> Process:
        return self._backend.process_by_id(process_id)

    def process_runs(self, process_id: str) -> list[Process]:
        """Every run of ``process_id``, oldest first (see :meth:`Backend.process_runs`)."""
        return self._backend.process_runs(process_id)

    def processes(
        self, workflow: Any = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        name = None if workflow is None else name_of(workflow)
        return list(self._backend.processes(workflow=name, tag=tag, status=status))

    def count_processes(
        self, workflow: Any = None, tag: str | None = None, status: str | None = "open"
    ) -> int:
        """How many processes ``processes`` would list: the number a database keeps."""
        name = None if workflow is None else name_of(workflow)
        return self._backend.count_processes(workflow=name, tag=tag, status=status)

    def purge(
        self, older_than: timedelta | str, workflow: Any = None, dry_run: bool = False
    ) -> int:
        """Forget, now, the processes that closed more than ``older_than`` ago (a
        timedelta or ``"30d"``, ``"12h"``, ``"90m"``, ``"45s"``), with their whole
        history; how many (with ``dry_run``, how many would go). Open processes stay.
        Backends with retention rules of their own raise NotSupportedError."""
        name = None if workflow is None else name_of(workflow)
        return self._backend.purge(older_than, workflow=name, dry_run=dry_run)

    # tasks

    def next_decision(
        self,
        identity: str | None = None,
        category: str = Defaults.DECISION_CATEGORY,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        """A decision task of this category for one of this manager's workflows: a task
        for a workflow it has no code for is left to a worker that has. With
        ``root_process``, only a task of that process or of its children."""
        workflows = list(self._workflows)
        if root_process is None:
            return self._backend.poll_decision_task(category, identity, workflows)
        return self._backend.poll_decision_task(category, identity, workflows, root_process)

    def next_activity(
        self,
        identity: str | None = None,
        category: str = Defaults.ACTIVITY_CATEGORY,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        """An activity task of this category for one of this manager's activities."""
        activities = list(self._activities)
        if root_process is None:
            return self._backend.poll_activity_task(category, identity, activities)
        return self._backend.poll_activity_task(category, identity, activities, root_process)

    def workflow_for_task(self, task: DecisionTask) -> Workflow:
        try:
            return self._workflows[str(task.process.workflow)]()
        except KeyError:
            raise UnknownWorkflowException(
                f"workflow {task.process.workflow!r} is not registered with this manager"
            ) from None

    def activity_for_task(
        self, task: ActivityTask, monitor: ActivityMonitor | None = None
    ) -> Activity:
        try:
            activity_class = self._activities[task.activity_execution.activity]
        except KeyError:
            raise UnknownActivityException(
                f"activity {task.activity_execution.activity!r} is not registered with this manager"
            ) from None
        return activity_class(task, monitor=monitor)

    def heartbeat(self, task: ActivityTask) -> bool:
        return self._backend.heartbeat_activity_task(task)

    def complete_task(self, task: Task, result: Any) -> None:
        """Report an activity's result (a plain value means completed) or a decider's decisions."""
        if isinstance(task, DecisionTask):
            self._backend.complete_decision_task(task, normalize_decisions(result, task.process))
        elif isinstance(task, ActivityTask):
            self._backend.complete_activity_task(task, _activity_result(result))
        else:
            raise TypeError(f"unsupported task type {type(task).__name__}")

    def complete_and_next(
        self,
        task: Task,
        result: Any,
        identity: str | None = None,
        category: str | None = None,
        root_process: str | None = None,
        claim_token: str | None = None,
    ) -> Task | None:
        """Report as ``complete_task`` does and claim the next task of the same kind
        (as ``next_decision`` or ``next_activity`` would), in one transaction where
        the backend can; None when nothing was claimed, and then the caller polls.
        With ``claim_token``, the claimed task gets that token, and
        ``claimed_decision`` or ``claimed_activity`` finds it again if this call's
        answer is lost."""
        if isinstance(task, DecisionTask):
            names = list(self._workflows)
            category = category or Defaults.DECISION_CATEGORY
            poll = Poll(category, identity, names, root_process, claim_token)
            decisions = normalize_decisions(result, task.process)
            return self._backend.complete_and_claim_decision_task(task, decisions, poll)
        if isinstance(task, ActivityTask):
            names = list(self._activities)
            category = category or Defaults.ACTIVITY_CATEGORY
            poll = Poll(category, identity, names, root_process, claim_token)
            activity_result = _activity_result(result)
            return self._backend.complete_and_claim_activity_task(task, activity_result, poll)
        raise TypeError(f"unsupported task type {type(task).__name__}")

    def claimed_decision(self, token: str) -> DecisionTask | None:
        """The decision task ``complete_and_next`` claimed with ``claim_token=token``,
        if it is still claimed so."""
        return self._backend.claimed_decision_task(token)

    def claimed_activity(self, token: str) -> ActivityTask | None:
        """The activity task ``complete_and_next`` claimed with ``claim_token=token``,
        if it is still claimed so."""
        return self._backend.claimed_activity_task(token)

    def fail_decision(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        self._backend.fail_decision_task(task, reason, details)

    def copy_with_backend(self, backend: Backend) -> Manager:
        return Manager(backend, self._workflows.values())

    def __repr__(self) -> str:
        return f"Manager({type(self._backend).__name__})"


def _activity_result(result: Any) -> ActivityResult:
    return result if isinstance(result, ActivityResult) else ActivityCompleted(result)
