"""Read back a process from the JSON that ``pyworkflow process show --json`` prints.

That JSON names each value by its ``type`` and its fields, the way people and ``jq``
read it, not by class; which family a field belongs to (an event, a decision, an
activity or process result) follows from the field's name and owner. Each value is
turned into the codec's tagged form and rebuilt by :mod:`pyworkflow.codec`.
"""

from __future__ import annotations

from typing import Any

from . import activity, codec, decision, events, process
from ._value import Value
from .exceptions import PyworkflowError


class HistoryFormatError(PyworkflowError, ValueError):
    """The JSON is not a process as ``process show --json`` prints it."""


def _by_type(module: Any, base: type) -> dict[str, str]:
    return {
        str(getattr(cls, "type", "")): cls.__name__
        for cls in codec.registered().values()
        if cls.__module__ == module.__name__ and issubclass(cls, base) and getattr(cls, "type", "")
    }


EVENTS = _by_type(events, events.Event)
DECISIONS = _by_type(decision, decision.Decision)
ACTIVITY_RESULTS = _by_type(activity, activity.ActivityResult)
PROCESS_RESULTS = _by_type(process, process.ProcessResult)

_FIELD_FAMILIES: dict[str, Any] = {
    "decision": DECISIONS,
    "timer": DECISIONS,
    "activity_execution": "ActivityExecution",
    "signal": "Signal",
    "process": "Process",
}


def process_from_json(data: Any) -> process.Process:
    """The process ``data`` describes: a ``process show --json`` object, or the
    codec's own tagged form."""
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        raise HistoryFormatError("expected a process object with a 'history' list")
    if codec.TAG in data:
        found = codec.decode(data)
        if not isinstance(found, process.Process):
            raise HistoryFormatError("the tagged JSON is not a process")
        return found
    try:
        tagged = _tag_process(data)
        found = codec.decode(tagged)
    except (KeyError, TypeError, AttributeError, codec.CodecError) as error:
        raise HistoryFormatError(f"the history does not fit pyworkflow's events: {error}") from None
    found.status = data.get("status") or process.ProcessStatus.OPEN
    return found


def _tag_process(data: dict[str, Any]) -> dict[str, Any]:
    return {
        codec.TAG: "Process",
        "workflow": data.get("workflow"),
        "id": data.get("id"),
        "input": _payload(data.get("input")),
        "tags": data.get("tags") or [],
        "parent": data.get("parent"),
        "history": [_tag(event, EVENTS) for event in data["history"]],
    }


def _tag(data: Any, family: Any) -> Any:
    """``data`` in the codec's form; ``family`` maps a ``type`` to a class name, or is one."""
    if data is None:
        return None
    if family == "Process":
        return _tag_process(data)
    name = family if isinstance(family, str) else family[data["type"]]
    cls = codec.registered()[name]
    tagged: dict[str, Any] = {codec.TAG: name}
    for field in cls._fields:
        tagged[field] = _field(cls, field, data.get(field))
    if "datetime" in data and issubclass(cls, events.Event):
        tagged["datetime"] = data["datetime"]
    return tagged


def _field(cls: type[Value], field: str, value: Any) -> Any:
    if field == "result" and cls is events.ChildProcessEvent:
        return _tag(value, PROCESS_RESULTS)
    if field == "result" and issubclass(cls, events.Event):
        return _tag(value, ACTIVITY_RESULTS)
    family = _FIELD_FAMILIES.get(field)
    if family is not None:
        return _tag(value, family)
    return _payload(value)


def _payload(value: Any) -> Any:
    """A payload as the codec keeps it: a dict with its own ``"@"`` key is escaped."""
    if isinstance(value, list):
        return [_payload(item) for item in value]
    if isinstance(value, dict):
        if codec.TAG in value:
            items = [[key, _payload(item)] for key, item in value.items()]
            return {codec.TAG: codec.ESCAPED_DICT, "items": items}
        return {key: _payload(item) for key, item in value.items()}
    return value
