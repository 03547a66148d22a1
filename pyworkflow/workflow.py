"""Workflows: the deciders that steer a process through its activities."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from ._naming import classproperty, strip_suffix
from .activity import Activity
from .decision import CancelProcess, Decision, ScheduleActivity
from .defaults import Defaults
from .exceptions import InvalidDecisionError

if TYPE_CHECKING:
    from .activity import ActivityExecution, ActivityResult
    from .decision import Timer
    from .events import Event
    from .process import Process, ProcessResult
    from .rules import Rule
    from .signal import Signal


class Workflow:
    """Override ``decide``: read ``process.history``, return decisions.

    ``decide`` may return one decision, a list of them, None, or an Activity
    class as shorthand for ``ScheduleActivity(cls, input=process.input)``.
    """

    activities: ClassVar[list[type[Activity]]] = []
    timeout: ClassVar[float] = Defaults.WORKFLOW_TIMEOUT
    decision_timeout: ClassVar[float] = Defaults.DECISION_TIMEOUT
    category: ClassVar[str] = Defaults.DECISION_CATEGORY

    @classproperty
    def name(cls: type) -> str:  # noqa: N805 - a class property
        return strip_suffix(cls.__name__, "Workflow")

    def decide(self, process: Process) -> Any:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


def normalize_decisions(returned: Any, process: Process) -> list[Decision]:
    """Turn what ``decide`` returned into a list of decisions, or say what is wrong."""
    if returned is None:
        return []
    items = returned if isinstance(returned, (list, tuple)) else [returned]
    decisions: list[Decision] = []
    for item in items:
        if isinstance(item, type) and issubclass(item, Activity):
            decisions.append(ScheduleActivity(item, input=process.input))
        elif isinstance(item, Decision):
            decisions.append(item)
        else:
            raise InvalidDecisionError(f"decide() returned {item!r}, which is not a decision")
    return decisions


def unique(items: Iterable[Any]) -> list[Any]:
    """Drop repeats, keeping first occurrences in order (in linear time: decisions hash)."""
    kept: list[Any] = []
    seen: set[Any] = set()
    for item in items:
        try:
            if item in seen:
                continue
            seen.add(item)
        except TypeError:  # an unhashable value: compare the slow way
            if item in kept:
                continue
        kept.append(item)
    return kept


def _gather(handler: Callable[[Event], list[Any]], process: Process) -> list[Any]:
    """Decisions for every unseen event, repeats dropped, a closing decision last.

    Handlers fire in event and definition order; a close that came first would
    make the whole list invalid, so it is moved behind the others.
    """
    decisions = unique(item for event in process.unseen_events() for item in handler(event))
    closing = [d for d in decisions if getattr(d, "closes_process", False)]
    return [d for d in decisions if not getattr(d, "closes_process", False)] + closing


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [item for item in value if item]
    return [value]


class DefaultWorkflow(Workflow):
    """Dispatches each unseen event to a ``respond_to_*`` method and gathers the decisions."""

    def initiate(self, process: Process) -> Any:
        raise NotImplementedError

    def respond_to_completed_activity(
        self, process: Process, activity_execution: ActivityExecution, result: Any
    ) -> Any:
        raise NotImplementedError

    def respond_to_interrupted_activity(
        self, process: Process, activity_execution: ActivityExecution, result: ActivityResult
    ) -> Any:
        raise NotImplementedError

    def respond_to_signal(self, process: Process, signal: Signal) -> Any:
        raise NotImplementedError

    def respond_to_timer(self, process: Process, timer: Timer) -> Any:
        raise NotImplementedError

    def respond_to_child_process(
        self,
        process: Process,
        child_process_id: str,
        workflow: str | None,
        result: ProcessResult,
        tags: list[str] | None,
    ) -> Any:
        raise NotImplementedError

    def handle_event(self, event: Event, process: Process) -> Any:
        e: Any = event
        if event.type == "process_started":
            return self.initiate(process)
        if event.type == "activity":
            if e.result.type == "completed":
                return self.respond_to_completed_activity(
                    process, e.activity_execution, e.result.result
                )
            return self.respond_to_interrupted_activity(process, e.activity_execution, e.result)
        if event.type == "signal":
            return self.respond_to_signal(process, e.signal)
        if event.type == "timer":
            return self.respond_to_timer(process, e.timer)
        if event.type == "cancel_requested":
            return self.respond_to_cancel_requested(process, e.details)
        if event.type == "child_process":
            return self.respond_to_child_process(
                process, e.process_id, e.workflow, e.result, e.tags
            )
        return None

    def respond_to_cancel_requested(self, process: Process, details: Any) -> Any:
        """Someone asked this process to cancel; by default it agrees."""
        return CancelProcess(details)

    def decide(self, process: Process) -> list[Any]:
        return _gather(lambda event: _as_list(self.handle_event(event, process)), process)


class RuleSetWorkflow(Workflow):
    """Every rule (see :mod:`pyworkflow.rules`) that matches an unseen event fires."""

    ruleset: ClassVar[list[Rule]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        from .rules import Rule

        # Rules in the order their names were first defined, base classes first; a
        # subclass attribute of the same name overrides (or, if not a rule, removes) one.
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            names.update(dict.fromkeys(vars(klass)))
        rules = [getattr(cls, name, None) for name in names]
        cls.ruleset = [rule for rule in rules if isinstance(rule, Rule)]

    def handle_event(self, event: Event, process: Process) -> list[Any]:
        decisions: list[Any] = []
        for rule in self.ruleset:
            if rule.match(event):
                decisions.extend(_as_list(rule.handle(self, event, process)))
        return decisions

    def decide(self, process: Process) -> list[Any]:
        return _gather(lambda event: self.handle_event(event, process), process)
