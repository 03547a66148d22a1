"""pyworkflow: durable workflow processes with Amazon SWF's programming model.

The everyday names are re-exported here; each also lives at its own module path.
"""

import logging

from . import testing
from .activity import (
    Activity,
    ActivityAborted,
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityMonitor,
    ActivityResult,
    ActivityTimedOut,
)
from .backend.base import Backend
from .decision import (
    CancelActivity,
    CancelProcess,
    CancelTimer,
    CompleteProcess,
    ContinueAsNew,
    Decision,
    FailProcess,
    RecordMarker,
    RequestCancelProcess,
    ScheduleActivity,
    SignalProcess,
    StartChildProcess,
    Timer,
)
from .exceptions import (
    BackendBusyError,
    BackendConfigurationError,
    BackendError,
    BackendUnavailableError,
    InvalidDecisionError,
    InvalidPayloadError,
    ProcessAlreadyOpenException,
    ProcessClosedException,
    PyworkflowError,
    TimedOutException,
    UnknownActivityException,
    UnknownDecisionException,
    UnknownProcessException,
    UnknownResourceException,
    UnknownWorkflowException,
)
from .hooks import Outcome, TaskInfo, WorkerHook
from .manager import Manager
from .observe import Observer, PublishedEvent
from .process import (
    Process,
    ProcessCanceled,
    ProcessCompleted,
    ProcessFailed,
    ProcessResult,
    ProcessStatus,
    ProcessTerminated,
    ProcessTimedOut,
)
from .signal import Signal
from .task import ActivityTask, DecisionTask
from .worker import ActivityWorker, DecisionWorker, WorkerThread
from .workflow import DefaultWorkflow, RuleSetWorkflow, Workflow

__all__ = [
    "Activity",
    "ActivityAborted",
    "ActivityCanceled",
    "ActivityCompleted",
    "ActivityExecution",
    "ActivityFailed",
    "ActivityMonitor",
    "ActivityResult",
    "ActivityTask",
    "ActivityTimedOut",
    "ActivityWorker",
    "Backend",
    "BackendBusyError",
    "BackendConfigurationError",
    "BackendError",
    "BackendUnavailableError",
    "CancelActivity",
    "CancelProcess",
    "CancelTimer",
    "CompleteProcess",
    "ContinueAsNew",
    "Decision",
    "DecisionTask",
    "DecisionWorker",
    "DefaultWorkflow",
    "FailProcess",
    "InvalidDecisionError",
    "InvalidPayloadError",
    "Manager",
    "Observer",
    "Outcome",
    "Process",
    "ProcessAlreadyOpenException",
    "ProcessCanceled",
    "ProcessClosedException",
    "ProcessCompleted",
    "ProcessFailed",
    "ProcessResult",
    "ProcessStatus",
    "ProcessTerminated",
    "ProcessTimedOut",
    "PyworkflowError",
    "PublishedEvent",
    "RecordMarker",
    "RequestCancelProcess",
    "RuleSetWorkflow",
    "ScheduleActivity",
    "Signal",
    "TaskInfo",
    "SignalProcess",
    "StartChildProcess",
    "TimedOutException",
    "Timer",
    "UnknownActivityException",
    "UnknownDecisionException",
    "UnknownProcessException",
    "UnknownResourceException",
    "UnknownWorkflowException",
    "WorkerHook",
    "WorkerThread",
    "Workflow",
    "testing",
]

logging.getLogger("pyworkflow").addHandler(logging.NullHandler())
