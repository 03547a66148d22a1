"""Processes found through SWF's List*WorkflowExecutions, a page at a time.

SWF takes one of its filters per call (workflow type, tag, close status or
workflow id), so the most selective one goes to SWF and the others are applied
to what it returns. A listed process reads its history on first use, so a list
costs one call per page, never one per process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from ...process import Process, ProcessResult, ProcessStatus
from .history import CLOSE_STATUSES

EPOCH = datetime(1970, 1, 2, tzinfo=timezone.utc)
SWF_CLOSE_STATUS = {ours: theirs for theirs, ours in CLOSE_STATUSES.items()}

RunReader = Callable[[str, str], Process]


def wanted_statuses(status: str | None) -> tuple[str, ...]:
    if status is None or status == "all":
        return ProcessStatus.ALL
    if status == "closed":
        return ProcessStatus.CLOSED
    if status not in ProcessStatus.ALL:
        allowed = ", ".join((*ProcessStatus.ALL, "closed", "all"))
        raise ValueError(f"unknown status {status!r}; expected one of {allowed}")
    return (status,)


def executions(
    client: Any,
    domain: str,
    open_: bool,
    workflow: str | None = None,
    workflow_version: str | None = None,
    tag: str | None = None,
    close_status: str | None = None,
    workflow_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """executionInfos of open or closed runs, newest first, across every page."""
    request: dict[str, Any] = {"domain": domain}
    request["startTimeFilter"] = {"oldestDate": EPOCH}
    if workflow_id is not None:
        request["executionFilter"] = {"workflowId": workflow_id}
    elif close_status is not None and not open_:
        request["closeStatusFilter"] = {"status": close_status}
    elif workflow is not None:
        request["typeFilter"] = {"name": workflow, "version": workflow_version}
    elif tag is not None:
        request["tagFilter"] = {"tag": tag}
    call = client.list_open_workflow_executions if open_ else client.list_closed_workflow_executions
    while True:
        page = call(**request)
        for info in page.get("executionInfos", []):
            # Checked here as well: an SWF-compatible server may ignore the filter.
            if workflow_id is None or info["execution"]["workflowId"] == workflow_id:
                yield info
        token = page.get("nextPageToken")
        if not token:
            return
        request["nextPageToken"] = token


def status_of(info: dict[str, Any]) -> str:
    if info.get("executionStatus") == "OPEN":
        return ProcessStatus.OPEN
    return CLOSE_STATUSES.get(info.get("closeStatus", ""), ProcessStatus.TERMINATED)


def matches(
    info: dict[str, Any], workflow: str | None, tag: str | None, statuses: tuple[str, ...]
) -> bool:
    if workflow is not None and info["workflowType"]["name"] != workflow:
        return False
    if tag is not None and tag not in (info.get("tagList") or []):
        return False
    return status_of(info) in statuses


class ListedProcess(Process):
    """A process from one executionInfo. SWF lists no input or result, so its
    history, input and result come from one read of its history, on first use:
    a list costs one call per page, never one per process."""

    def __init__(self, read: Callable[[], Process], **fields: Any) -> None:
        self._read = read
        self._run: Process | None = None
        super().__init__(history_loader=lambda: self._whole_run().history, **fields)

    def _whole_run(self) -> Process:
        if self._run is None:
            self._run = self._read()
        return self._run

    @property
    def input(self) -> Any:
        return self._whole_run().input

    @input.setter
    def input(self, value: Any) -> None:
        """Process.__init__ sets it to None; the history has the real one."""

    @property
    def result(self) -> ProcessResult | None:
        return self._whole_run().result

    @result.setter
    def result(self, value: ProcessResult | None) -> None:
        """Process.__init__ sets it to None; the history has the real one."""


def listed_process(info: dict[str, Any], read: RunReader) -> Process:
    """A process from one executionInfo. Runs we closed with cancel_process are
    terminations to SWF: the history tells them apart."""
    execution = info["execution"]
    workflow_id, run_id = execution["workflowId"], execution["runId"]
    parent = info.get("parent")
    return ListedProcess(
        lambda: read(workflow_id, run_id),
        workflow=info["workflowType"]["name"],
        id=workflow_id,
        tags=list(info.get("tagList") or []),
        parent=parent["workflowId"] if parent else None,
        status=status_of(info),
        started_at=info.get("startTimestamp"),
        closed_at=info.get("closeTimestamp"),
    )
