"""The backends the behavioural suite runs against, each built fresh per test.

A backend plugs in by adding a factory here, and the capabilities it lacks to
``LACKS``: a test that needs one (``@pytest.mark.needs("children")``) is skipped on
that backend with the reason given there. A test that takes the ``clock`` fixture
steers or reads the suite's ManualClock, so it needs ``manual_clock``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyworkflow.backend.base import Backend
from pyworkflow.backend.blinker import BlinkerBackend
from pyworkflow.backend.memory import MemoryBackend
from pyworkflow.backend.sqlite import SQLiteBackend
from pyworkflow.clock import Clock

from .postgres_db import DATABASE

BackendFactory = Callable[[Clock], Backend]


@contextmanager
def memory_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    yield lambda clock: MemoryBackend(clock=clock)


@contextmanager
def blinker_over_memory(tmp_path: Path) -> Iterator[BackendFactory]:
    """The wrapper must not change behaviour, so it takes the whole suite too."""
    yield lambda clock: BlinkerBackend(MemoryBackend(clock=clock))


@contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    """Each backend gets a fresh file, as each memory backend starts empty: a test
    that makes several (hypothesis makes one per example) must not see old runs."""
    made = itertools.count()
    yield lambda clock: SQLiteBackend(tmp_path / f"pyworkflow-{next(made)}.sqlite3", clock=clock)


@contextmanager
def postgres_backend(tmp_path: Path) -> Iterator[BackendFactory]:
    """Each backend gets a fresh schema in the session's test database, dropped after
    the test (its backends are closed first)."""
    from pyworkflow.backend.postgres import PostgresBackend

    dsn = DATABASE.dsn()
    schemas: list[str] = []

    def make(clock: Clock) -> Backend:
        schemas.append(DATABASE.new_schema_name())
        return PostgresBackend(dsn, clock=clock, schema=schemas[-1])

    try:
        yield make
    finally:
        DATABASE.drop_schemas(schemas)


@contextmanager
def swf_on_moto(tmp_path: Path) -> Iterator[BackendFactory]:
    """Amazon SWF as moto's server plays it over HTTP, in real time: the clock is
    not SWF's to follow, so it is left unused. Each backend gets a fresh domain."""
    from .swf_server import SHARED, answering_swf_backend

    url = SHARED.url()
    yield lambda clock: answering_swf_backend(url)


BACKENDS = {
    "memory": memory_backend,
    "blinker": blinker_over_memory,
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
    "swf": swf_on_moto,
}

MOTO = "moto 5.2's SWF"

# What a backend cannot do, by capability, with the reason a skipped test reports.
LACKS: dict[str, dict[str, str]] = {
    "swf": {
        "manual_clock": "SWF keeps real time; it cannot follow the suite's ManualClock",
        "children": f"{MOTO} answers StartChildWorkflowExecution with a server error",
        "continue_as_new": f"{MOTO} answers ContinueAsNewWorkflowExecution with a server error",
        "cancel_activity": f"{MOTO} answers RequestCancelActivityTask with a server error",
        "request_cancel": f"{MOTO} answers RequestCancelWorkflowExecution with a server error",
        "signal_external": f"{MOTO} answers SignalExternalWorkflowExecution with a server error",
        "cancel_external": (
            f"{MOTO} answers RequestCancelExternalWorkflowExecution with a server error"
        ),
        "activity_canceled": f"{MOTO} answers RespondActivityTaskCanceled with a server error",
        "activity_timeouts": f"{MOTO} simulates only the heartbeat timeout of activities",
        "decision_timeout": f"{MOTO} never times a decision task out",
        "closed_run_tasks": f"{MOTO} still hands out the activity tasks of a terminated execution",
        "close_not_last": (
            f"{MOTO} answers a closing decision that is not last with a ValidationException"
        ),
        "poll_by_activity": "SWF hands out activity tasks by task list only, not by activity",
        "poll_by_workflow": "SWF hands out decision tasks by task list only, not by workflow",
        "id_reuse_runs": f"{MOTO} keeps only the latest run of a reused workflow id",
        "close_status_filter": (
            f"{MOTO} mishandles closeStatusFilter (compares the filter with a string "
            "and removes from the list it iterates)"
        ),
        "retention": (
            "SWF owns retention: it keeps closed runs for the domain's retention period, "
            "and the backend's purge is not supported there"
        ),
        "claim_with_report": (
            "SWF has no call that records a result and hands out the next task: "
            "a worker there polls after each report"
        ),
        "unhandled_decision": (
            f"{MOTO} never refuses a closing decision with UNHANDLED_DECISION when events "
            "arrived during the decision"
        ),
    },
}


def lacking(backend: str, needs: set[str]) -> list[str]:
    """The reasons ``backend`` cannot run a test that needs ``needs``."""
    return [reason for need, reason in LACKS.get(backend, {}).items() if need in needs]
