"""Exit codes and the errors that carry them.

Scripts branch on the exit code, so each failure maps to exactly one code:

====  =====================================================================
code  meaning
====  =====================================================================
0     success
1     the process ended failed, canceled, timed out or terminated
      (``process wait``, ``process run``, ``process start --wait``);
      ``replay`` and ``process replay``: the code decides differently from
      the history
2     usage or config error (bad option, bad config file, unknown workflow,
      input that is not JSON, a process that is closed to signals, a backend
      configured so that it can never open: a database path that is a
      directory or not a database, a newer schema, a read-only file), two
      workflow or activity classes under one name, a bad log setting in the
      environment, a port that is taken (``ui``, ``--metrics-port``), an
      extra that is not installed, a purge asked of a backend with its own
      retention (such as Amazon SWF)
3     not found (unknown process id)
4     backend unreachable (a database locked for too long, a server that
      does not answer): retrying later may work; also a worker run with
      ``--exit-when-idle`` whose last poll failed
5     still open: ``--timeout`` passed before the process ended (``process
      wait``, ``process run``, ``process start --wait``); it runs on
70    internal error: a bug; ``--debug`` shows its traceback
130   interrupted: Ctrl-C stopped a command waiting for a process
      (``process wait``, ``process start --wait``) or ``process run``
      before the process ended, or a second Ctrl-C stopped a worker without
      waiting for its task
143   terminated: SIGTERM stopped a command waiting for a process, or
      ``process run`` (a worker stopped by SIGTERM exits 0)
====  =====================================================================

Every error is printed as one line on stderr; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_PROCESS_UNSUCCESSFUL = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_BACKEND_UNREACHABLE = 4
EXIT_STILL_OPEN = 5
EXIT_INTERNAL_ERROR = 70  # sysexits.h EX_SOFTWARE
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it; 143 (SIGTERM) likewise

# Exceptions raised by these driver packages mean the storage could not be reached.
_DRIVER_MODULES = ("sqlite3", "psycopg", "psycopg2", "botocore", "boto3", "urllib3")


class CliError(click.ClickException):
    """An error the user can act on, printed as ``Error: <message>``."""

    exit_code = EXIT_USAGE


class ConfigError(CliError):
    exit_code = EXIT_USAGE


class NotFoundError(CliError):
    exit_code = EXIT_NOT_FOUND


class BackendUnreachableError(CliError):
    exit_code = EXIT_BACKEND_UNREACHABLE


class ProcessUnsuccessfulError(CliError):
    exit_code = EXIT_PROCESS_UNSUCCESSFUL


class StillOpenError(CliError):
    exit_code = EXIT_STILL_OPEN


class InternalError(CliError):
    exit_code = EXIT_INTERNAL_ERROR


def translate(error: BaseException) -> CliError | None:
    """The CliError a library or driver exception stands for, or None if it is a bug.

    Imports are deferred so that translating costs nothing on the happy path.
    """
    if isinstance(error, CliError):
        return error
    from pyworkflow.exceptions import (
        BackendConfigurationError,
        BackendError,
        InvalidPayloadError,
        NotSupportedError,
        ProcessAlreadyOpenException,
        ProcessClosedException,
        UnknownProcessException,
        UnknownResourceException,
    )

    message = str(error) or type(error).__name__
    if isinstance(error, UnknownProcessException):
        return NotFoundError(message)
    if isinstance(error, (ProcessClosedException, ProcessAlreadyOpenException)):
        return CliError(message)
    if isinstance(error, (InvalidPayloadError, NotSupportedError)):
        return CliError(message)
    if isinstance(error, UnknownResourceException):
        return NotFoundError(message)
    if isinstance(error, BackendConfigurationError):
        # It will fail the same way on every retry: exit 2, which the systemd
        # units do not restart, rather than 4, which they do.
        return ConfigError(message)
    if isinstance(error, BackendError) or _from_driver(error):
        return BackendUnreachableError(f"backend unreachable: {message}")
    return None


def _from_driver(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] in _DRIVER_MODULES
