"""``pyworkflow process``: start, steer, inspect and wait for processes.

Data goes to stdout (JSON with --json), errors to stderr, and the exit code
says how it went, so shell scripts can chain these commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..app import App
from ..errors import ProcessUnsuccessfulError, StillOpenError
from ..options import F, data_options, pass_app

if TYPE_CHECKING:
    from pyworkflow.process import Process

TIMEOUT = click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="Give up waiting after SECONDS (exit 5; the process stays open).",
)
INPUT_HELP = "Process input: JSON, @file to read JSON from a file, or - for stdin."


def new_process_options(command: F) -> F:
    """WORKFLOW, --input, --id and --tag: what start and run both take."""
    for option in reversed(
        [
            click.argument("workflow"),
            click.option("--input", "input_", metavar="JSON|@FILE|-", help=INPUT_HELP),
            click.option(
                "--id", "process_id", metavar="ID", help="Process id [default: a new uuid]."
            ),
            click.option(
                "--tag",
                "tags",
                multiple=True,
                metavar="TAG",
                callback=lambda _ctx, _param, tags: _non_empty(tags, "--tag"),
                help="Tag the process (repeatable).",
            ),
        ]
    ):
        command = option(command)
    return command


@click.group()
def process() -> None:
    """Start processes; signal, cancel, terminate, show, list and wait for them."""


@process.command()
@new_process_options
@click.option("--wait", is_flag=True, help="Wait for the process to end and print its outcome.")
@TIMEOUT
@data_options
@pass_app
def start(
    app: App,
    workflow: str,
    input_: str | None,
    process_id: str | None,
    tags: tuple[str, ...],
    wait: bool,
    timeout: float | None,
) -> None:
    """Start a process of WORKFLOW and print its id.

    WORKFLOW is the registered name (Foo), the class name (FooWorkflow), or a
    dotted path (package.module:FooWorkflow). Workers run it; with --wait,
    print its outcome instead (--timeout implies --wait).

    \b
    Examples:
      pyworkflow process start Foo --input '[3,4]'
      pyworkflow process start FooWorkflow --input @order.json --tag nightly
      echo '[3,4]' | pyworkflow process start Foo --input - --wait --timeout 60
    """
    from ..render import dumps

    started = _start(app, workflow, input_, process_id, tags)
    if wait or timeout is not None:
        _report(app, _wait(app, started, timeout), timeout)
        return
    if app.config.backend.type == "memory":
        click.echo(
            f"Warning: the memory backend keeps processes only while this command runs; "
            f"process {started} ends with it (use SQLite to keep it, or --wait)",
            err=True,
        )
    if app.json:
        click.echo(dumps({"id": started}))
    else:
        click.echo(started)


@process.command()
@new_process_options
@TIMEOUT
@data_options
@pass_app
def run(
    app: App,
    workflow: str,
    input_: str | None,
    process_id: str | None,
    tags: tuple[str, ...],
    timeout: float | None,
) -> None:
    """Start a process and drive it to its end with workers in this command.

    Prints the result and exits 0 if the process completed; otherwise says
    how it ended and exits 1. Workers elsewhere may help. Worker logs show
    with --debug.

    \b
    Examples:
      pyworkflow process run pyworkflow.examples.multiplication:Foo --input '[3,4]'
      pyworkflow process run Foo --input '[3,4]' --config dev.yaml --json
    """
    from ..embedded import drive

    if not app.debug:
        from ..logs import configure_logging

        configure_logging(app.config.logging.format, "warning", app.config.secrets)
    else:
        from .worker import setup_logging

        setup_logging(app)
    started = _start(app, workflow, input_, process_id, tags, warn_unserved=False)
    _report(app, drive(app.manager, started, app.workflow(workflow), timeout), timeout)


@process.command()
@click.argument("process_id", metavar="ID")
@click.argument("name")
@click.option("--data", metavar="JSON|@FILE|-", help="Signal data: JSON, @file, or - for stdin.")
@data_options
@pass_app
def signal(app: App, process_id: str, name: str, data: str | None) -> None:
    """Send signal NAME to process ID; its decider sees it in the history.

    \b
    Examples:
      pyworkflow process signal 5f1c... approved
      pyworkflow process signal 5f1c... resize --data '{"width": 640}'
    """
    from pyworkflow.signal import Signal

    from ..payloads import parse_payload
    from ..render import dumps

    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="NAME")
    sent = Signal(name, parse_payload(data, "--data"))
    app.reader.signal_process(process_id, sent)
    if app.json:
        # What the history holds: no --data is recorded as {}.
        click.echo(dumps({"id": process_id, "signal": sent.name, "data": sent.data}))


@process.command()
@click.argument("process_id", metavar="ID")
@click.option(
    "--request",
    is_flag=True,
    help="Ask the decider to cancel (it sees cancel_requested) instead of closing at once.",
)
@click.option("--details", metavar="JSON", help="Details recorded with the cancel, as JSON.")
@data_options
@pass_app
def cancel(app: App, process_id: str, request: bool, details: str | None) -> None:
    """Cancel process ID: close it as canceled, with its running activities.

    \b
    Examples:
      pyworkflow process cancel 5f1c...
      pyworkflow process cancel 5f1c... --request --details '"customer asked"'
    """
    from ..payloads import parse_payload
    from ..render import dumps

    payload = parse_payload(details, "--details")
    if request:
        app.reader.request_cancel_process(process_id, payload)
    else:
        app.reader.cancel_process(process_id, payload)
    if app.json:
        click.echo(dumps({"id": process_id, "cancel": "requested" if request else "canceled"}))


@process.command()
@click.argument("process_id", metavar="ID")
@click.option("--reason", metavar="JSON", help="Why, recorded with the termination, as JSON.")
@click.option("--details", metavar="JSON", help="Details recorded with it, as JSON.")
@data_options
@pass_app
def terminate(app: App, process_id: str, reason: str | None, details: str | None) -> None:
    """Terminate process ID at once: no decider is asked, its activities are dropped.

    For a process whose decider cannot be trusted to cancel (a bug, a loop);
    otherwise prefer cancel.

    \b
    Examples:
      pyworkflow process terminate 5f1c... --reason '"stuck in a loop"'
    """
    from ..payloads import parse_payload
    from ..render import dumps

    why = parse_payload(reason, "--reason")
    more = parse_payload(details, "--details")
    app.reader.terminate_process(process_id, why, more)
    if app.json:
        click.echo(dumps({"id": process_id, "terminated": True, "reason": why, "details": more}))


RUN = click.option(
    "--run",
    type=click.IntRange(min=1),
    metavar="N",
    help="The Nth run of a reused id or of ContinueAsNew, 1 the first [default: the latest].",
)


@process.command()
@click.argument("process_id", metavar="ID")
@RUN
@data_options
@pass_app
def show(app: App, process_id: str, run: int | None) -> None:
    """Show process ID: status, times, input, result, its runs and history.

    \b
    Examples:
      pyworkflow process show 5f1c...
      pyworkflow process show 5f1c... --run 1
      pyworkflow process show 5f1c... --json | jq .result
    """
    from ..render import dumps, process_data, process_text, runs_data

    app.read_only = True
    runs = app.reader.process_runs(process_id)
    found = _pick_run(runs, run, process_id)
    if app.json:
        click.echo(dumps({**process_data(found), "runs": runs_data(runs)}, pretty=True))
    else:
        click.echo(process_text(found, runs))


@process.command()
@click.argument("process_id", metavar="ID")
@RUN
@data_options
@pass_app
def history(app: App, process_id: str, run: int | None) -> None:
    """Print the history of process ID, event by event, and nothing else.

    \b
    Examples:
      pyworkflow process history 5f1c...
      pyworkflow process history 5f1c... --json | jq '.[] | select(.type == "signal")'
    """
    from ..render import dumps, history_text, jsonable

    app.read_only = True
    found = _pick_run(app.reader.process_runs(process_id), run, process_id)
    if app.json:
        click.echo(dumps([jsonable(event) for event in found.history], pretty=True))
    else:
        click.echo(history_text(found))


def _pick_run(runs: list[Process], run: int | None, process_id: str) -> Process:
    from ..errors import NotFoundError

    if run is None:
        return runs[-1]
    if run > len(runs):
        raise NotFoundError(f"process {process_id} has {len(runs)} run(s); no run {run}")
    return runs[run - 1]


@process.command(name="list")
@click.option(
    "--status",
    default="open",
    show_default=True,
    metavar="STATUS",
    help="open, closed, all, or one status: completed, failed, canceled, timed_out, "
    "terminated, continued_as_new.",
)
@click.option("--workflow", metavar="NAME", help="Only processes of this workflow.")
@click.option("--tag", metavar="TAG", help="Only processes with this tag.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    metavar="N",
    help="Show the N most recently started; 0 for all.",
)
@data_options
@pass_app
def list_processes(
    app: App, status: str, workflow: str | None, tag: str | None, limit: int
) -> None:
    """List processes, open ones unless --status says otherwise, newest first.

    WORKFLOW may be a registered name, a class name or a dotted path; a name
    no longer configured still finds that workflow's processes.

    \b
    Examples:
      pyworkflow process list
      pyworkflow process list --status failed --workflow Foo --json
      pyworkflow process list --status all --tag nightly --limit 0
    """
    from pyworkflow.process import ProcessStatus

    from ..render import dumps, process_summary, processes_text

    app.read_only = True
    allowed = ("closed", "all", *ProcessStatus.ALL)
    if status not in allowed:
        raise click.BadParameter(f"expected one of {', '.join(allowed)}", param_hint="--status")
    reader = app.reader
    name = None if workflow is None else _workflow_name(workflow)
    found = reader.processes(workflow=name, tag=tag, status=status)
    if workflow is not None and name == workflow and not found:
        found = _by_configured_name(app, workflow, tag, status)
    found.reverse()  # the backends list oldest first
    if limit and len(found) > limit:
        click.echo(
            f"showing the {limit} most recently started of {len(found)} processes; "
            "--limit 0 shows all",
            err=True,
        )
        found = found[:limit]
    if app.json:
        click.echo(dumps([process_summary(item) for item in found], pretty=True))
    else:
        click.echo(processes_text(found))
        click.echo(_kept_text(app))


def _kept_text(app: App) -> str:
    """The footer of a listing: how many processes the backend keeps, and for how long."""
    from pyworkflow._duration import format_duration

    manager = app.reader
    kept, open_ = manager.count_processes(status="all"), manager.count_processes()
    retention = manager.backend.retention
    how_long = "forever" if retention is None else f"for {format_duration(retention)}"
    noun = "process" if kept == 1 else "processes"
    return f"{kept} {noun} kept ({open_} open); closed ones are kept {how_long}"


@process.command()
@click.option(
    "--older-than",
    "older_than",
    required=True,
    metavar="AGE",
    help="Purge processes that closed longer ago than AGE: 30d, 12h, 90m, 45s.",
)
@click.option("--workflow", metavar="NAME", help="Only processes of this workflow.")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@click.option(
    "--vacuum",
    is_flag=True,
    help="SQLite: then give the freed space back to the file system (rewrites the file).",
)
@data_options
@pass_app
def purge(app: App, older_than: str, workflow: str | None, dry_run: bool, vacuum: bool) -> None:
    """Delete, now, closed processes that closed longer ago than --older-than,
    with their whole history, and print how many.

    Open processes are never touched; a closed child of an open parent may go
    (the parent's history keeps the child's result). Workers do the same in
    the background when the backend has a retention (backend.retention in the
    config). On Amazon SWF the domain's retention period applies instead.

    \b
    Examples:
      pyworkflow process purge --older-than 30d
      pyworkflow process purge --older-than 12h --workflow Foo --dry-run --json
    """
    app.create_storage = False
    from pyworkflow._duration import parse_duration

    from ..errors import CliError
    from ..render import dumps

    try:
        age = parse_duration(older_than)
    except ValueError as error:
        raise CliError(f"--older-than: {error}") from None
    name = None if workflow is None else _workflow_name(workflow)
    count = app.reader.purge(age, workflow=name, dry_run=dry_run)
    vacuumed = vacuum and not dry_run and app.reader.backend.vacuum()
    if vacuum and not dry_run and not vacuumed:
        click.echo(
            f"note: {app.config.backend.type} needs no vacuum: it reuses the space itself",
            err=True,
        )
    if app.json:
        click.echo(dumps({"purged" if not dry_run else "would_purge": count, "vacuumed": vacuumed}))
    else:
        verb = "would purge" if dry_run else "purged"
        click.echo(f"{verb} {count} closed process{'' if count == 1 else 'es'}")


@process.command()
@click.argument("process_id", metavar="ID")
@TIMEOUT
@data_options
@pass_app
def wait(app: App, process_id: str, timeout: float | None) -> None:
    """Wait for process ID to end; print its result, exit 0 if it completed.

    Exits 1 if it failed, was canceled, timed out or was terminated; 5 if
    --timeout passed while it was still open; 130 on Ctrl-C and 143 on
    SIGTERM, which stop the wait and leave the process as it is.

    \b
    Examples:
      pyworkflow process wait 5f1c... --timeout 300
      pyworkflow process wait 5f1c... --json | jq .status
    """
    app.read_only = True
    _report(app, _wait(app, process_id, timeout), timeout)


def _wait(app: App, process_id: str, timeout: float | None) -> Process:
    """The process once closed; a stop signal ends the wait with 128 + its number."""
    from ..signals import Interrupted, interrupt_exits
    from ..waiting import wait_closed

    manager = app.reader  # opened before the handlers: a signal while opening is Ctrl-C too
    try:
        with interrupt_exits():
            return wait_closed(manager, process_id, timeout)
    except Interrupted as interrupt:
        click.echo(f"Interrupted: stopped waiting for process {process_id}.", err=True)
        raise click.exceptions.Exit(interrupt.exit_code) from None


def _non_empty(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """An empty tag could not be listed by (``--tag ""`` means no filter there)."""
    if any(not value.strip() for value in values):
        raise click.BadParameter("must not be empty", param_hint=option)
    return values


def _workflow_name(workflow: str) -> str:
    """The name ``workflow`` is recorded under: a path is imported to learn it;
    any other name is taken as it is, so listing needs no workflow code."""
    from ..loading import find_workflow

    return find_workflow(workflow, []).name if ":" in workflow else workflow


def _by_configured_name(app: App, workflow: str, tag: str | None, status: str) -> list[Process]:
    """Processes of ``workflow`` given by its class name (FooWorkflow for Foo), which
    only the configured workflow code can tell; an unknown name is a typo, said so."""
    from ..errors import ConfigError
    from ..loading import find_workflow

    try:
        configured = app.workflows
    except ConfigError:
        return []  # the workflow code is not importable here: nothing more to learn
    name = find_workflow(workflow, configured).name
    if name == workflow:
        return []
    return app.reader.processes(workflow=name, tag=tag, status=status)


def _start(
    app: App,
    workflow: str,
    input_: str | None,
    process_id: str | None,
    tags: tuple[str, ...],
    warn_unserved: bool = True,
) -> str:
    from pyworkflow.process import Process

    from ..payloads import parse_payload

    payload = parse_payload(input_, "--input")
    configured = list(app.workflows)
    workflow_class = app.workflow(workflow)
    if workflow_class not in configured and warn_unserved:
        click.echo(
            f"Warning: no configured worker serves workflow {workflow_class.name!r} "
            f"({workflow}); add its module to 'workflows:' in {app.config.name}, or the "
            "process waits until a worker that knows it runs",
            err=True,
        )
    manager = app.manager
    return manager.start_process(
        Process(workflow=workflow_class, id=process_id, input=payload, tags=list(tags))
    )


def _report(app: App, found: Process, timeout: float | None) -> None:
    """Print the outcome; exit 1 unless the process completed, 5 if still open."""
    from ..render import dumps, outcome_text, process_data

    if app.json:
        click.echo(dumps(process_data(found), pretty=True))
    elif found.status == "completed":
        click.echo(outcome_text(found))
    if found.is_open:
        raise StillOpenError(f"process {found.id} is still open after {timeout:g}s")
    if found.status != "completed":
        raise ProcessUnsuccessfulError(f"process {found.id} {outcome_text(found)}")


def _register() -> None:
    from .replay import process_replay

    process.add_command(process_replay)


_register()
