"""A worker hook that puts the task being run into the logging context.

Activities and deciders log with whatever logger they like (``shop.billing``);
those lines should say which task they belong to without the user passing
fields around. structlog's contextvars are merged into every record the
command renders, stdlib ones included, so binding the task's fields around
the task is enough. Context variables belong to the thread (and to any
asyncio task started from it), so workers running side by side in threads
never see each other's task.

The library's workers know nothing of structlog; this hook is the command's own.
"""

from __future__ import annotations

from collections.abc import Callable

from structlog.contextvars import bound_contextvars

from pyworkflow.hooks import TaskInfo, WorkerHook


class LogContextHook(WorkerHook):
    """Binds the task's fields to structlog's context while the task runs."""

    def around_task(self, info: TaskInfo, proceed: Callable[[], str]) -> str:
        with bound_contextvars(**info.fields):
            return proceed()
