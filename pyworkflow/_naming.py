"""Names of activities and workflows, as the 2014 code derived them from class names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class classproperty(Generic[T]):  # noqa: N801 - reads like the builtin it mirrors
    def __init__(self, getter: Callable[[Any], T]) -> None:
        self._getter = getter

    def __get__(self, instance: object, owner: type) -> T:
        return self._getter(owner)


def strip_suffix(class_name: str, suffix: str) -> str:
    if class_name.endswith(suffix) and len(class_name) > len(suffix):
        return class_name[: -len(suffix)]
    return class_name


def name_of(thing: Any) -> str:
    """A class with a ``name`` (Activity, Workflow) or a plain string."""
    name = getattr(thing, "name", None)
    return name if isinstance(name, str) else str(thing)
