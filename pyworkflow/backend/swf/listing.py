"""Processes found through SWF's List*WorkflowExecutions, a page at a time.

SWF takes one of its filters per call (workflow type, tag, close status or
workflow id), so the most selective one goes to SWF and the others are applied
to what it returns. A listed process reads its history on first use, so a list
costs one call per page, never one per process, and checking whether a process
is still open costs one listing call and no history read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from ...process import Process, ProcessResult, ProcessStatus
from .history import CLOSE_STATUSES, Decoded

EPOCH = datetime(1970, 1, 2, tzinfo=timezone.utc)
SWF_CLOSE_STATUS = {ours: theirs for theirs, ours in CLOSE_STATUSES.items()}

RunReader = Callable[[str, str], Decoded]


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


def listed_process(info: dict[str, Any], read: RunReader) -> Process:
    """A process from one executionInfo."""
    return ListedProcess(info, read)


class ListedProcess(Process):
    """A run as a listing shows it: workflow, id, tags, parent, times and, for most
    runs, status and tags come from the executionInfo; the history, and with it the
    input, the result and the status of a terminated run, are read when first
    asked for.
    Runs we closed with cancel_process are terminations to SWF: only the history
    tells them apart."""

    def __init__(self, info: dict[str, Any], read: RunReader) -> None:
        execution = info["execution"]
        workflow_id, run_id = execution["workflowId"], execution["runId"]
        self._decoded: Decoded | None = None
        self._read = lambda: read(workflow_id, run_id)
        self._listed_status = status_of(info)
        self._listed_tags = info.get("tagList")
        self._overrides: dict[str, Any] = {}
        parent = info.get("parent")
        super().__init__(
            workflow=info["workflowType"]["name"],
            id=workflow_id,
            parent=parent["workflowId"] if parent else None,
            started_at=info.get("startTimestamp"),
            closed_at=info.get("closeTimestamp"),
            history_loader=lambda: [event for _, event in self._run().events],
        )
        self._overrides.clear()  # what Process.__init__ set is the listing's default

    def _run(self) -> Decoded:
        if self._decoded is None:
            self._decoded = self._read()
        return self._decoded

    @property
    def input(self) -> Any:
        if "input" in self._overrides:
            return self._overrides["input"]
        return self._run().input

    @input.setter
    def input(self, value: Any) -> None:
        self._overrides["input"] = value

    @property
    def tags(self) -> list[str]:
        """From the listing; SWF leaves an empty tagList out, so without one the
        history tells."""
        if "tags" in self._overrides:
            return list(self._overrides["tags"])
        if self._listed_tags is not None:
            return list(self._listed_tags)
        return self._run().tags

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self._overrides["tags"] = value

    @property
    def result(self) -> ProcessResult | None:
        if "result" in self._overrides:
            return self._overrides["result"]
        if self._listed_status == ProcessStatus.OPEN:
            return None
        return self._run().result

    @result.setter
    def result(self, value: ProcessResult | None) -> None:
        self._overrides["result"] = value

    @property
    def status(self) -> str:
        if "status" in self._overrides:
            return str(self._overrides["status"])
        if self._listed_status == ProcessStatus.TERMINATED:
            return self._run().status
        return self._listed_status

    @status.setter
    def status(self, value: str) -> None:
        self._overrides["status"] = value
