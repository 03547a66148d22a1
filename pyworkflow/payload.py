"""Payloads (inputs, results, details, signal data) must survive a trip through JSON.

Every backend but memory stores them as JSON, so memory checks them too: a value
JSON cannot carry fails at the call that passed it, not later in a worker.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .exceptions import InvalidPayloadError


def check_payload(value: Any, field: str) -> Any:
    """Return ``value`` as JSON carries it (tuples become lists; a fresh copy, so the
    caller's later changes do not reach what is stored), else raise naming ``field``.

    Memory thereby keeps exactly what SQLite and PostgreSQL give back.
    """
    problem = _first_problem(value, field)
    if problem is not None:
        raise InvalidPayloadError(problem)
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return json.loads(dumps(value))


def _first_problem(value: Any, path: str) -> str | None:
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"{path}: {value!r} is not a finite number, so JSON cannot carry it"
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = _first_problem(item, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path}: key {key!r} is not a string, so JSON cannot carry it"
            problem = _first_problem(item, f"{path}.{key}")
            if problem:
                return problem
        return None
    return f"{path}: a {type(value).__name__} is not JSON (use lists, dicts, str, numbers, bools)"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)
