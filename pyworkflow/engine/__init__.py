"""The engine: the SWF rules applied over a store of rows."""

from .core import Engine, Registry
from .records import ActivityType, WorkflowType
from .store import Store, Transaction

__all__ = ["ActivityType", "Engine", "Registry", "Store", "Transaction", "WorkflowType"]
