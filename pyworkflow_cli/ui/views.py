"""What the pages show, as plain values: the templates only lay them out.

Kept apart from the routes so that what a person sees of a process (its
children, each activity's attempts, who ran them) is decided in one place,
in plain Python, and the templates hold no logic beyond loops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pyworkflow.process import ProcessStatus

from ..render import event_details, jsonable, time_text

if TYPE_CHECKING:
    from pyworkflow.backend.base import Backend
    from pyworkflow.events import Event
    from pyworkflow.process import Process

PAGE_SIZE = 50
SHORT = 60  # characters of JSON still shown on one line
STATUSES = ("all", "open", "closed", *ProcessStatus.CLOSED)


class BadQuery(ValueError):
    """A filter or page number in the address that means nothing."""


def pretty(value: Any) -> str:
    """A payload as JSON: on one line when it is short, else indented. It is user
    data, shown as it was given: the templates escape it."""
    data = jsonable(value)
    line = json.dumps(data, ensure_ascii=False)
    return line if len(line) <= SHORT else json.dumps(data, indent=2, ensure_ascii=False)


def moment(value: datetime | None) -> str:
    return f"{time_text(value)} UTC" if value else "—"


def process_url(process_id: str) -> str:
    return f"/processes/{quote(process_id, safe='')}"


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    note: str = ""


def _tags(process: Process) -> list[Link]:
    """Each tag links to the processes that carry it."""
    return [Link(tag, Filters(tag=tag).url()) for tag in process.tags]


# -- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    status: str = "all"
    workflow: str = ""
    tag: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        status = query.get("status") or "all"
        if status not in STATUSES:
            raise BadQuery(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        page = query.get("page") or "1"
        if not page.isdigit() or int(page) < 1:
            raise BadQuery(f"page must be a whole number from 1; got {page!r}")
        return cls(
            status, query.get("workflow", "").strip(), query.get("tag", "").strip(), int(page)
        )

    def url(self, **changes: Any) -> str:
        """The list's address with these filters, leaving out what is at its default."""
        changed = replace(self, **changes)
        query = {
            name: getattr(changed, name)
            for name, default in (("status", "all"), ("workflow", ""), ("tag", ""), ("page", 1))
            if getattr(changed, name) != default
        }
        return f"/?{urlencode(query)}" if query else "/"


@dataclass(frozen=True)
class ProcessRow:
    id: str
    url: str
    workflow: str
    status: str
    started: str
    closed: str
    tags: list[Link]


@dataclass(frozen=True)
class ListPage:
    filters: Filters
    rows: list[ProcessRow]
    total: int
    pages: int
    statuses: tuple[str, ...] = STATUSES
    previous_url: str | None = None
    next_url: str | None = None


def list_page(backend: Backend, filters: Filters, page_size: int = PAGE_SIZE) -> ListPage:
    """One page of the processes the filters select, newest first."""
    found = backend.processes(
        workflow=filters.workflow or None, tag=filters.tag or None, status=filters.status
    )
    found.sort(key=_started_key, reverse=True)
    pages = max(1, -(-len(found) // page_size))
    page = min(filters.page, pages)
    shown = found[(page - 1) * page_size : page * page_size]
    filters = replace(filters, page=page)
    return ListPage(
        filters=filters,
        rows=[_row(process) for process in shown],
        total=len(found),
        pages=pages,
        previous_url=filters.url(page=page - 1) if page > 1 else None,
        next_url=filters.url(page=page + 1) if page < pages else None,
    )


def _started_key(process: Process) -> float:
    return process.started_at.timestamp() if process.started_at else float("-inf")


def _row(process: Process) -> ProcessRow:
    return ProcessRow(
        id=str(process.id),
        url=process_url(str(process.id)),
        workflow=str(process.workflow),
        status=process.status,
        started=moment(process.started_at),
        closed=moment(process.closed_at),
        tags=_tags(process),
    )


# -- one process -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    number: int
    time: str
    type: str
    summary: str
    details: str  # the event's fields as JSON; empty when it has none
    identity: str | None = None  # the worker that ran this attempt, where recorded
    attempt: int | None = None  # an activity's attempt this event belongs to


@dataclass(frozen=True)
class ResultField:
    name: str
    value: str


@dataclass(frozen=True)
class ProcessPage:
    id: str
    workflow: str
    status: str
    started: str
    closed: str
    tags: list[Link]
    input: str
    result: list[ResultField]
    parent: Link | None
    children: list[Link]
    timeline: list[TimelineEntry] = field(default_factory=list)


def process_page(process: Process) -> ProcessPage:
    history = process.history
    return ProcessPage(
        id=str(process.id),
        workflow=str(process.workflow),
        status=process.status,
        started=moment(process.started_at),
        closed=moment(process.closed_at),
        tags=_tags(process),
        input=pretty(process.input),
        result=_result(process),
        parent=Link(process.parent, process_url(process.parent)) if process.parent else None,
        children=_children(history),
        timeline=timeline(history),
    )


def _result(process: Process) -> list[ResultField]:
    result = process.result
    if result is None:
        return []
    return [
        ResultField(name, pretty(getattr(result, name)))
        for name in result._fields
        if getattr(result, name) is not None or name == "result"
    ]


def _children(history: list[Event]) -> list[Link]:
    """Children in the order they were started, from the decisions that started them
    and the results that came back (a child of another run may only have the latter)."""
    seen: dict[str, str] = {}
    for event in history:
        e: Any = event
        if event.type == "decision" and e.decision.type == "start_child_process":
            seen.setdefault(str(e.decision.process.id), str(e.decision.process.workflow))
        elif event.type == "child_process":
            seen.setdefault(str(e.process_id), str(e.workflow or ""))
    return [Link(child, process_url(child), workflow) for child, workflow in seen.items()]


def timeline(history: list[Event]) -> list[TimelineEntry]:
    """Each event with what a reader needs beside it: which attempt of its activity
    it belongs to and which worker ran it (``identity``, recorded on started events
    by backends that keep it)."""
    attempts: dict[str, int] = {}
    runners: dict[str, str | None] = {}
    entries = []
    for number, event in enumerate(history, start=1):
        e: Any = event
        identity = getattr(event, "identity", None)
        attempt = None
        if event.type == "activity_started":
            activity_id = e.activity_execution.id
            attempt = attempts[activity_id] = attempts.get(activity_id, 0) + 1
            runners[activity_id] = identity
        elif event.type == "activity":
            activity_id = e.activity_execution.id
            attempt = attempts.get(activity_id)
            identity = identity or runners.get(activity_id)
        entries.append(
            TimelineEntry(
                number=number,
                time=moment(event.datetime),
                type=event.type,
                summary=_summary(event),
                details=_details(event),
                identity=identity,
                attempt=attempt,
            )
        )
    return entries


def _summary(event: Event) -> str:
    e: Any = event
    if event.type == "decision" and e.decision.type == "start_child_process":
        child = e.decision.process
        return f"start_child_process {child.workflow} {child.id}"
    return event_details(event)


def _details(event: Event) -> str:
    fields = {
        name: value
        for name, value in jsonable(event).items()
        if name not in ("type", "datetime") and value is not None
    }
    return pretty(fields) if fields else ""
