"""Signals: named messages sent to a running process."""

from __future__ import annotations

from typing import Any

from ._value import Value


class Signal(Value):
    _fields = ("name", "data")

    def __init__(self, name: str, data: Any = None) -> None:
        self.name = name
        self.data = {} if data is None else data
