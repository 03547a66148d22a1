"""Decorators that turn methods of a RuleSetWorkflow into rules matched against events.

A criterion is either a value compared for equality or a function used as a filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any, Any], Any]


class RuleDoesNotApplyException(Exception):
    pass


class Rule:
    def __init__(self, match: Callable[[Any], bool], handler: Handler) -> None:
        self._match = match
        self._handler = handler

    def match(self, event: Any) -> bool:
        return bool(self._match(event))

    def handle(self, workflow: Any, event: Any, process: Any) -> Any:
        return self._handler(workflow, event, process)

    def __call__(self, workflow: Any, event: Any, process: Any) -> Any:
        if not self.match(event):
            raise RuleDoesNotApplyException()
        return self.handle(workflow, event, process)

    def __repr__(self) -> str:
        return f"Rule({self._handler!r})"


def matches(value: Any, criterion: Any) -> bool:
    if criterion is None:
        return True
    if isinstance(criterion, type):
        return isinstance(value, criterion)
    if callable(criterion):
        try:
            return bool(criterion(value))
        except Exception:
            return False
    return bool(value == criterion)


def rule(match: Callable[[Any], bool]) -> Callable[[Handler], Rule]:
    def decorator(handler: Handler) -> Rule:
        return Rule(match, handler)

    return decorator


def process_started(*args: Any) -> Any:
    """Usable bare (``@process_started``) or called (``@process_started()``)."""

    def match(event: Any) -> bool:
        return bool(event.type == "process_started")

    if args and callable(args[0]):
        return Rule(match, args[0])
    return rule(match)


def completed_activity(activity: Any = None, input: Any = None) -> Callable[[Handler], Rule]:
    def match(event: Any) -> bool:
        return (
            event.type == "activity"
            and event.result.type == "completed"
            and matches(event.activity_execution.activity, getattr(activity, "name", activity))
            and matches(event.activity_execution.input, input)
        )

    return rule(match)


def interrupted_activity(activity: Any = None, result: Any = None) -> Callable[[Handler], Rule]:
    def match(event: Any) -> bool:
        return (
            event.type == "activity"
            and event.result.type != "completed"
            and matches(event.activity_execution.activity, getattr(activity, "name", activity))
            and matches(event.result, result)
        )

    return rule(match)


def signal(name: Any = None) -> Callable[[Handler], Rule]:
    def match(event: Any) -> bool:
        return event.type == "signal" and matches(event.signal.name, name)

    return rule(match)


def timer(data: Any = None) -> Callable[[Handler], Rule]:
    def match(event: Any) -> bool:
        return event.type == "timer" and matches(event.timer.data, data)

    return rule(match)


def child_process_completed(
    workflow: Any = None, tags: Any = None, has_tag: str | None = None, result: Any = None
) -> Callable[[Handler], Rule]:
    def match(event: Any) -> bool:
        return (
            event.type == "child_process"
            and matches(event.workflow, getattr(workflow, "name", workflow))
            and matches(event.tags, tags)
            and matches(event.result, result)
            and (has_tag is None or has_tag in (event.tags or []))
        )

    return rule(match)


def cancel_requested() -> Callable[[Handler], Rule]:
    """Matches a request to cancel this process (RequestCancelProcess, or a parent's policy)."""

    def match(event: Any) -> bool:
        return bool(event.type == "cancel_requested")

    return rule(match)
