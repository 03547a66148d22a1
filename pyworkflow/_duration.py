"""Durations written as people write them in a config or on a command line: ``30d``,
``12h``, ``90m``, ``45s``. One parser, so the config and the commands agree."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([dhms])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """``text`` as a timedelta; a ValueError with a one-line reason when it is not one."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: expected a whole number and a unit, "
            "d, h, m or s (30d, 12h, 90m, 45s)"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def as_duration(value: timedelta | str | None) -> timedelta | None:
    """A retention or age as given to the library: a timedelta, a duration text or None."""
    if value is None or isinstance(value, timedelta):
        if value is not None and value < timedelta(0):
            raise ValueError(f"a duration cannot be negative ({value})")
        return value
    return parse_duration(value)


def format_duration(value: timedelta) -> str:
    """The shortest of the forms ``parse_duration`` reads that says ``value`` exactly."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
