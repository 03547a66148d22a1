"""``pyworkflow replay`` and ``pyworkflow process replay``: check decider code
against a recorded history before deploying it.

Exit 0 when the code decides as recorded at every decision point, 1 with the
first decision point that differs, 2 for usage errors (a file that is not a
process's JSON, a workflow that cannot be imported or is not the history's).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..app import App
from ..errors import EXIT_PROCESS_UNSUCCESSFUL, CliError
from ..options import data_options, pass_app

if TYPE_CHECKING:
    from pyworkflow.process import Process
    from pyworkflow.workflow import Workflow

WORKFLOW_HELP = "The workflow code to check, as module:Class"


@click.command()
@click.argument("file", type=click.File("r"), metavar="FILE.json")
@click.option(
    "--workflow", "workflow_path", required=True, metavar="MODULE:CLASS", help=f"{WORKFLOW_HELP}."
)
@data_options
@pass_app
def replay(app: App, file: Any, workflow_path: str) -> None:
    """Replay the history in FILE.json (what `process show ID --json` prints)
    against the decider of --workflow.

    \b
    Examples:
      pyworkflow process show 5f1c... --json > order.json
      pyworkflow replay order.json --workflow shop.orders:OrderWorkflow
    """
    from pyworkflow.history_json import HistoryFormatError, process_from_json

    try:
        process = process_from_json(json.load(file))
    except json.JSONDecodeError as error:
        raise CliError(f"{file.name}: not JSON: {error}") from None
    except HistoryFormatError as error:
        raise CliError(f"{file.name}: {error}") from None
    _replay(app, process, _workflow_at(workflow_path))


@click.command(name="replay")
@click.argument("process_id", metavar="ID")
@click.option(
    "--workflow",
    "workflow_path",
    metavar="MODULE:CLASS",
    help=f"{WORKFLOW_HELP} [default: the configured workflow of the process].",
)
@data_options
@pass_app
def process_replay(app: App, process_id: str, workflow_path: str | None) -> None:
    """Replay the history of process ID against its workflow's decider, or
    the one --workflow names.

    \b
    Examples:
      pyworkflow process replay 5f1c...
      pyworkflow process replay 5f1c... --workflow shop.orders_v2:OrderWorkflow
    """
    app.create_storage = False
    app.read_only = True  # replaying reads the history and runs the decider in memory
    process = app.backend.process_by_id(process_id)
    if workflow_path is None:
        workflow = app.workflow(str(process.workflow))
    else:
        workflow = _workflow_at(workflow_path)
    _replay(app, process, workflow)


def _workflow_at(path: str) -> type[Workflow]:
    from ..loading import load_workflows

    if ":" not in path:
        raise CliError(f"--workflow: {path!r} is not module:Class")
    return load_workflows(path, "--workflow")[0]


def _replay(app: App, process: Process, workflow: type[Workflow]) -> None:
    from pyworkflow.testing import ReplayMismatch, replay

    from ..render import dumps

    if process.workflow != workflow.name:
        raise CliError(
            f"the history is of workflow {process.workflow!r}, "
            f"not of {workflow.__name__} (named {workflow.name!r})"
        )
    try:
        checked = replay(workflow, process)
    except ReplayMismatch as mismatch:
        if app.json:
            click.echo(dumps(_mismatch_data(process, mismatch), pretty=True))
        else:
            click.echo(_mismatch_text(mismatch))
        raise click.exceptions.Exit(EXIT_PROCESS_UNSUCCESSFUL) from None
    if app.json:
        click.echo(dumps({"id": process.id, "matches": True, "decision_points": checked}))
    else:
        click.echo(f"{checked} decision points of process {process.id} replay as recorded")


def _mismatch_data(process: Process, mismatch: Any) -> dict[str, Any]:
    return {
        "id": process.id,
        "matches": False,
        "decision_point": mismatch.point,
        "history_event": mismatch.event_index,
        "recorded": mismatch.recorded,
        "replayed": mismatch.replayed,
        "error": None
        if mismatch.error is None
        else f"{type(mismatch.error).__name__}: {mismatch.error}",
    }


def _mismatch_text(mismatch: Any) -> str:
    from ..render import decision_details

    def listing(decisions: list[Any]) -> str:
        lines = [f"    {decision_details(decision)}" for decision in decisions]
        return "\n".join(lines) or "    (none)"

    new = (
        f"    raises {type(mismatch.error).__name__}: {mismatch.error}"
        if mismatch.error is not None
        else listing(mismatch.replayed)
    )
    return (
        f"decision point {mismatch.point} (history event {mismatch.event_index}) differs\n"
        f"  recorded:\n{listing(mismatch.recorded)}\n  new code:\n{new}"
    )
