"""JSON forms of events, decisions, results, signals and processes, for durable stores.

Stores keep histories as JSON, never pickle: a pickle runs code when read, and
ties stored data to today's class layout. Every value class names its
constructor arguments in ``_fields``, so one generic walk covers them all; a
value becomes ``{"@": class name, field: ...}`` and is rebuilt by calling the
class registered under that name.

A plain payload dict that happens to have an ``"@"`` key is escaped as
``{"@": "dict", "items": [[key, value], ...]}`` so that no payload is ever
mistaken for a value. Event times are kept as UTC ISO strings; they take no part in equality
but users read them.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from . import activity, decision, events, process, retry, signal
from ._value import Value
from .exceptions import PyworkflowError

TAG = "@"
ESCAPED_DICT = "dict"


class CodecError(PyworkflowError, ValueError):
    """Stored JSON names a class this version does not know, or does not fit it."""


class _Entry:
    """How to rebuild one class: which attributes to keep, and how to call it."""

    def __init__(self, cls: type[Value], extra: tuple[str, ...]) -> None:
        self.cls = cls
        self.fields = tuple(cls._fields)
        self.extra = extra
        parameters = inspect.signature(cls).parameters
        # Most classes take their fields by name; a few (CancelActivity, CancelTimer)
        # name the one argument differently, and are called positionally.
        self.by_keyword = all(name in parameters for name in self.fields)

    def build(self, values: dict[str, Any]) -> Value:
        """``values`` holds every field, and any extra that was stored."""
        if self.by_keyword:
            return self.cls(**values)
        extras = {name: values[name] for name in self.extra if name in values}
        return self.cls(*(values[name] for name in self.fields), **extras)


_REGISTRY: dict[str, _Entry] = {}


def register(cls: type[Value], extra: tuple[str, ...] = ()) -> None:
    """Make ``cls`` storable; ``extra`` names constructor arguments beyond ``_fields``."""
    name = cls.__name__
    if name in _REGISTRY and _REGISTRY[name].cls is not cls:
        raise ValueError(f"another class is already registered as {name!r}")
    _REGISTRY[name] = _Entry(cls, extra)


def registered() -> dict[str, type[Value]]:
    return {name: entry.cls for name, entry in _REGISTRY.items()}


def encode(value: Any) -> Any:
    """A JSON-able form of ``value``: values tagged with their class, payloads as they are."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Value):
        entry = _REGISTRY.get(type(value).__name__)
        if entry is None or entry.cls is not type(value):
            raise CodecError(f"{type(value).__name__} is not registered with pyworkflow.codec")
        encoded: dict[str, Any] = {TAG: type(value).__name__}
        for name in entry.fields:
            encoded[name] = encode(getattr(value, name))
        for name in entry.extra:
            encoded[name] = _encode_extra(getattr(value, name))
        return encoded
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if TAG in value:
            # As pairs, so that decoding never reads the payload's own "@" as a tag.
            return {
                TAG: ESCAPED_DICT,
                "items": [[key, encode(item)] for key, item in value.items()],
            }
        return {key: encode(item) for key, item in value.items()}
    raise CodecError(f"a {type(value).__name__} cannot be stored as JSON")


def decode(data: Any) -> Any:
    """The value ``encode`` made ``data`` from."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        return _rebuild({key: decode(item) for key, item in data.items()})
    return data


def dumps(value: Any) -> str:
    """``encode`` as compact JSON text."""
    return json.dumps(encode(value), separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """``decode`` straight from JSON text, rebuilding values as the parser meets them."""
    return json.loads(text, object_hook=_rebuild)


def _rebuild(data: dict[str, Any]) -> Any:
    """One decoded level: ``data``'s own items are already rebuilt."""
    tag = data.get(TAG)
    if tag is None:
        return data
    if tag == ESCAPED_DICT:
        return dict(data["items"])
    entry = _REGISTRY.get(tag)
    if entry is None:
        raise CodecError(f"stored data names unknown class {tag!r}")
    values = {name: data.get(name) for name in entry.fields}
    for name in entry.extra:
        if name in data:
            value = data[name]
            values[name] = datetime.fromisoformat(value) if name == "datetime" else value
    try:
        return entry.build(values)
    except TypeError as error:
        raise CodecError(f"stored {tag} does not fit its class: {error}") from None


def _encode_extra(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return encode(value)


def _value_classes(modules: Iterable[Any]) -> list[type[Value]]:
    """Value classes defined in ``modules`` (not merely imported there)."""
    found: list[type[Value]] = []
    for module in modules:
        for item in vars(module).values():
            if (
                isinstance(item, type)
                and issubclass(item, Value)
                and item.__module__ == module.__name__
                and item not in found
            ):
                found.append(item)
    return found


def _register_builtin() -> None:
    abstract = {
        events.Event,
        decision.Decision,
        activity.ActivityResult,
        activity.InterruptedActivityResult,
        process.ProcessResult,
        process.InterruptedProcessResult,
    }
    extras: dict[type, tuple[str, ...]] = {
        process.Process: ("status", "result"),
        # Who took the task: recorded, but no part of what the event means.
        events.DecisionStartedEvent: ("datetime", "identity"),
        events.ActivityStartedEvent: ("datetime", "identity"),
    }
    for cls in _value_classes([events, decision, activity, process, signal, retry]):
        if cls in abstract:
            continue
        extra = extras.get(cls, ("datetime",) if issubclass(cls, events.Event) else ())
        register(cls, extra)


_register_builtin()
