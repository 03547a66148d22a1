"""The engine: the SWF rules applied over a store of rows.

What a store author needs is public here and in ``records`` and ``store``; the
rules themselves (``_core``) and the decision workers' kept histories
(``_histories``) are the engine's own."""

from ._core import (
    UNHANDLED_DECISION,
    Engine,
    Registry,
    check_decisions,
    checked_result,
    decision_backoff,
)
from .records import ActivityType, WorkflowType
from .store import Store, Transaction

__all__ = [
    "UNHANDLED_DECISION",
    "ActivityType",
    "Engine",
    "Registry",
    "Store",
    "Transaction",
    "WorkflowType",
    "check_decisions",
    "checked_result",
    "decision_backoff",
]
