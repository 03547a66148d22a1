"""Errors a caller can act on; each names what was wrong."""


class PyworkflowError(Exception):
    """Base of every error pyworkflow raises on purpose."""


class UnknownResourceException(PyworkflowError, LookupError):
    pass


class UnknownProcessException(UnknownResourceException):
    pass


class UnknownActivityException(UnknownResourceException):
    """The activity task is unknown, finished, or timed out: its result is refused."""


class UnknownDecisionException(UnknownResourceException):
    """The decision task is unknown or timed out: its decisions are refused."""


class UnknownWorkflowException(UnknownResourceException):
    pass


class ProcessAlreadyOpenException(PyworkflowError):
    """A caller-chosen process id is already used by an open process."""


class ProcessClosedException(PyworkflowError):
    """The process has ended; it takes no more signals or cancels."""


class InvalidPayloadError(PyworkflowError, ValueError):
    """A value that JSON cannot carry was passed as a payload."""


class InvalidDecisionError(PyworkflowError, ValueError):
    """A decider returned something that is not a decision, or an invalid one."""


class NotSupportedError(PyworkflowError):
    """The backend cannot do what was asked: it keeps its own rules for it (Amazon
    SWF forgets closed executions after its domain's retention period)."""


class BackendError(PyworkflowError):
    """The storage behind a backend failed or cannot be reached."""


class TimedOutException(PyworkflowError):
    pass


class BackendConfigurationError(BackendError):
    """The backend cannot be opened as configured (a missing directory, a file that
    is not a database, a newer schema, no write access); nothing was written."""


class TransientBackendError(BackendError):
    """A failure that says nothing about the request, only about the moment: the
    connection dropped, the server stopped answering, another writer held the lock.
    The same call may succeed if tried again; :mod:`pyworkflow.reporting` does so
    for results, which must not be lost to a blip. Only the stores decide what is
    transient, by raising a subclass of this."""


class BackendUnavailableError(TransientBackendError):
    """The storage cannot be reached now (a server down, refusing or unreachable);
    unlike a configuration error, a later try may succeed."""


class BackendBusyError(TransientBackendError):
    """The storage stayed locked by another writer for longer than the busy timeout."""
