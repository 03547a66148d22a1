"""Ids of activities, timers and processes: strings, on every backend.

2014 code passes integers (``ScheduleActivity('double', id=1)``); SQL columns
hold text, and a backend that compared an integer with them would fail deep in
the database. So an integer id is taken as its string form, the same everywhere,
and anything else is refused where it is passed.
"""

from __future__ import annotations

from typing import Any

from .exceptions import InvalidDecisionError


def as_id(
    value: Any, what: str = "id", error: type[ValueError] = InvalidDecisionError
) -> str | None:
    """``value`` as a stored id: a string as it is, an integer as its string form."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise error(f"{what} must be a string or an integer, not {type(value).__name__} {value!r}")


def required_id(value: Any, what: str = "id") -> str:
    """As :func:`as_id`, for an id that must be given."""
    checked = as_id(value, what)
    if checked is None:
        raise InvalidDecisionError(f"{what} is required")
    return checked
