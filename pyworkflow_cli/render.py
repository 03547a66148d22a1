"""Processes as JSON for scripts and as text for people.

JSON mirrors the library's values: each value becomes an object with its
``type`` (when it has one) and its fields, so ``ProcessCompleted(12)`` is
``{"type": "completed", "result": 12}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyworkflow.events import Event
    from pyworkflow.process import Process


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: values by their fields, datetimes in ISO 8601."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    fields = getattr(value, "_fields", None)
    if fields is not None:
        data: dict[str, Any] = {}
        if getattr(value, "type", ""):
            data["type"] = value.type
        for name in fields:
            data[name] = jsonable(getattr(value, name))
        if isinstance(getattr(value, "datetime", None), datetime):
            data["datetime"] = value.datetime.isoformat()
        if getattr(value, "identity", None) is not None:
            data["identity"] = value.identity
        return data
    if isinstance(value, type):
        return getattr(value, "name", value.__name__)
    return repr(value)


def dumps(value: Any, pretty: bool = False) -> str:
    return json.dumps(jsonable(value), indent=2 if pretty else None, sort_keys=False)


def compact(value: Any) -> str:
    """A payload in one short line, for tables."""
    return json.dumps(jsonable(value), separators=(",", ":"))


def started_at(process: Process) -> datetime | None:
    return process.started_at


def duration(process: Process) -> float | None:
    """Seconds from start to close; None while open or when a time is unknown."""
    if process.started_at is None or process.closed_at is None:
        return None
    return round((process.closed_at - process.started_at).total_seconds(), 3)


def process_summary(process: Process) -> dict[str, Any]:
    started = started_at(process)
    closed = process.closed_at
    return {
        "id": process.id,
        "workflow": process.workflow,
        "status": process.status,
        "tags": list(process.tags),
        "started": started.isoformat() if started else None,
        "closed": closed.isoformat() if closed else None,
        "duration_seconds": duration(process),
    }


def runs_data(runs: list[Process]) -> list[dict[str, Any]]:
    """Every run of one process id, oldest first, numbered as ``--run`` takes them."""
    return [
        {
            "run": number,
            "status": run.status,
            "started": run.started_at.isoformat() if run.started_at else None,
            "closed": run.closed_at.isoformat() if run.closed_at else None,
        }
        for number, run in enumerate(runs, start=1)
    ]


def process_data(process: Process) -> dict[str, Any]:
    return {
        **process_summary(process),
        "input": jsonable(process.input),
        "parent": process.parent,
        "result": jsonable(process.result),
        "history": [jsonable(event) for event in process.history],
    }


def outcome_text(process: Process) -> str:
    """The outcome in words: the result when completed, else why not."""
    result = process.result
    if result is None:
        return process.status
    if process.status == "completed":
        return compact(getattr(result, "result", None))
    details = [
        compact(getattr(result, name))
        if not isinstance(getattr(result, name), str)
        else getattr(result, name)
        for name in result._fields
        if getattr(result, name) is not None
    ]
    return f"{process.status}: {'; '.join(details)}" if details else process.status


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def event_details(event: Event) -> str:
    """What happened, in a phrase: the parts of the event worth reading in a table."""
    e: Any = event
    kind = event.type
    if kind == "decision":
        return decision_details(e.decision)
    if kind == "decision_rejected":
        return f"{decision_details(e.decision)}: {e.reason}"
    if kind == "decision_failed":
        return str(e.reason)
    if kind == "activity_started":
        started = f"{e.activity_execution.activity} id={e.activity_execution.id}"
        return f"{started} by {e.identity}" if e.identity else started
    if kind == "decision_started":
        return f"by {e.identity}" if e.identity else ""
    if kind == "activity":
        return f"{e.activity_execution.activity} {result_details(e.result)}"
    if kind == "signal":
        return f"{e.signal.name} {compact(e.signal.data)}"
    if kind == "timer":
        return f"delay={e.timer.delay} {compact(e.timer.data)}"
    if kind == "child_process":
        return f"{e.workflow or ''} {e.process_id} {result_details(e.result)}".strip()
    if kind in ("cancel_requested", "process_terminated"):
        fields = [compact(getattr(e, name)) for name in e._fields if getattr(e, name) is not None]
        return " ".join(fields)
    return ""


def decision_details(decision: Any) -> str:
    fields = []
    for name in decision._fields:
        value = getattr(decision, name)
        if value is None or (name == "id" and decision.type == "schedule_activity"):
            continue
        fields.append(f"{name}={compact(value)}" if name != "activity" else str(value))
    return " ".join([decision.type, *fields])


def result_details(result: Any) -> str:
    fields = []
    for name in result._fields:
        value = getattr(result, name)
        if value is None or name == "details" and result.type == "failed":
            continue  # a failure's details is a traceback: too long for a table
        fields.append(compact(value) if name == "result" else f"{name}={compact(value)}")
    return " ".join([result.type, *fields])


def process_text(process: Process, runs: list[Process] | None = None) -> str:
    started = started_at(process)
    closed = process.closed_at
    took = duration(process)
    lines = [
        f"id:        {process.id}",
        f"workflow:  {process.workflow}",
        f"status:    {process.status}",
        f"started:   {time_text(started) if started else '-'}",
        f"closed:    {time_text(closed) if closed else '-'}"
        + (f" (after {seconds_text(took)})" if took is not None else ""),
        f"tags:      {', '.join(process.tags) or '-'}",
        f"input:     {compact(process.input)}",
    ]
    if process.parent:
        lines.append(f"parent:    {process.parent}")
    lines.append(f"result:    {outcome_text(process) if process.result is not None else '-'}")
    if runs is not None and len(runs) > 1:
        rows = [
            [
                str(item["run"]),
                item["status"],
                time_text(run.started_at) if run.started_at else "-",
                time_text(run.closed_at) if run.closed_at else "-",
                "<- shown" if run is process else "",
            ]
            for item, run in zip(runs_data(runs), runs, strict=True)
        ]
        lines += ["", "runs (show one with --run N):"]
        lines.append(table(["RUN", "STATUS", "STARTED (UTC)", "CLOSED (UTC)", ""], rows))
    lines += ["", "history:", history_text(process)]
    return "\n".join(lines)


def history_text(process: Process) -> str:
    rows = [
        [str(number), time_text(event.datetime), event.type, event_details(event)]
        for number, event in enumerate(process.history, start=1)
    ]
    return table(["#", "TIME (UTC)", "EVENT", "DETAILS"], rows)


def seconds_text(seconds: float) -> str:
    """A duration for people: 0.25s, 42s, 3m07s, 2h05m."""
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def processes_text(processes: list[Process]) -> str:
    rows = []
    for process in processes:
        started = started_at(process)
        rows.append(
            [
                str(process.id),
                str(process.workflow),
                process.status,
                time_text(started) if started else "-",
                time_text(process.closed_at) if process.closed_at else "-",
                ",".join(process.tags),
            ]
        )
    return table(["ID", "WORKFLOW", "STATUS", "STARTED (UTC)", "CLOSED (UTC)", "TAGS"], rows)


def time_text(moment: datetime) -> str:
    """A moment to the millisecond, as every table shows times (UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
