"""Value semantics shared by every pyworkflow record.

Histories are compared whole in tests and deduplicated in deciders, so values
compare by their fields; timestamps are metadata and never take part.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class Value:
    """Compares, hashes and prints by the names in ``_fields``."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        # Payloads may be lists or dicts: hash their canonical JSON form.
        return hash((type(self).__name__, json.dumps(self._key(), sort_keys=True, default=repr)))

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"
