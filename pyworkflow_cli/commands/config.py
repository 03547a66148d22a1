"""``pyworkflow config``: check a config before deploying it."""

from __future__ import annotations

from typing import Any

import click

from ..app import App
from ..options import data_options, pass_app


@click.group()
def config() -> None:
    """Check the config file, or print an example one."""


@config.command()
@click.option(
    "--connect/--no-connect",
    default=True,
    show_default=True,
    help="Also open the backend, to check it can be reached.",
)
@data_options
@pass_app
def check(app: App, connect: bool) -> None:
    """Validate the config, import its workflows, and list them with their activities.

    Exits 0 when everything checks out, 2 on a config error, 4 when the backend
    cannot be reached. It creates nothing: a SQLite database that does not
    exist yet is reported as not found, not made.

    \b
    Examples:
      pyworkflow config check --config prod.yaml
      PYWORKFLOW_CONFIG=prod.yaml pyworkflow config check --json
    """
    from ..render import dumps

    app.create_storage = False  # checking creates nothing, a database least of all
    cfg = app.config
    workflows = app.workflows
    if connect:
        app.manager  # noqa: B018 - opening it is the check
    else:
        from ..backends import resolve_classes

        resolve_classes(cfg)
    report = {
        "config": cfg.source,
        "backend": {"type": cfg.backend.type, **_shown(cfg.backend.settings, cfg.redact)},
        "wrappers": list(cfg.wrappers),
        "plugins": list(cfg.plugins),
        "workflows": [
            {
                "name": workflow.name,
                "class": f"{workflow.__module__}.{workflow.__qualname__}",
                "category": workflow.category,
                "timeout": workflow.timeout,
                "decision_timeout": workflow.decision_timeout,
                "activities": [
                    {
                        "name": activity.name,
                        "category": activity.category,
                        "scheduled_timeout": activity.scheduled_timeout,
                        "execution_timeout": activity.execution_timeout,
                        "heartbeat_timeout": activity.heartbeat_timeout,
                    }
                    for activity in workflow.activities
                ],
            }
            for workflow in workflows
        ],
    }
    if app.json:
        click.echo(dumps(report, pretty=True))
    else:
        click.echo(_text(report, connect))


@config.command()
@click.argument("name", default="multiplication")
def example(name: str) -> None:
    """Print a bundled example config, to start one of your own.

    \b
    Examples:
      pyworkflow config example > pyworkflow.yaml
      pyworkflow process run Foo --input '[3,4]'    # uses ./pyworkflow.yaml
    """
    from importlib.resources import files

    from ..errors import NotFoundError

    bundled = files("pyworkflow_cli").joinpath("examples").joinpath(f"{name}.yaml")
    if not bundled.is_file():
        names = sorted(
            entry.name.removesuffix(".yaml")
            for entry in files("pyworkflow_cli").joinpath("examples").iterdir()
            if entry.name.endswith(".yaml")
        )
        raise NotFoundError(f"no example config {name!r}; bundled: {', '.join(names)}")
    click.echo(bundled.read_text(encoding="utf-8"), nl=False)


def _shown(settings: Any, redact: Any) -> dict[str, str]:
    return {key: redact(str(value)) for key, value in settings.items()}


def _text(report: dict[str, Any], connected: bool) -> str:
    from ..render import table

    backend = report["backend"]
    settings = " ".join(f"{key}={value}" for key, value in backend.items() if key != "type")
    lines = [
        f"config:    {report['config'] or '(none found: defaults)'}",
        f"backend:   {backend['type']} {settings}".rstrip()
        + (" (reachable)" if connected else " (not opened)"),
    ]
    if report["wrappers"]:
        lines.append(f"wrappers:  {', '.join(report['wrappers'])}")
    if report["plugins"]:
        lines.append(f"plugins:   {', '.join(report['plugins'])}")
    rows = []
    for workflow in report["workflows"]:
        rows.append(
            [
                "workflow",
                workflow["name"],
                workflow["category"],
                f"timeout={_seconds(workflow['timeout'])} "
                f"decision={_seconds(workflow['decision_timeout'])}",
            ]
        )
        for activity in workflow["activities"]:
            rows.append(
                [
                    "  activity",
                    activity["name"],
                    activity["category"],
                    f"scheduled={_seconds(activity['scheduled_timeout'])} "
                    f"execution={_seconds(activity['execution_timeout'])} "
                    f"heartbeat={_seconds(activity['heartbeat_timeout'])}",
                ]
            )
    if rows:
        lines += ["", table(["KIND", "NAME", "CATEGORY", "TIMEOUTS"], rows)]
    else:
        lines.append("workflows: none configured")
    return "\n".join(lines)


def _seconds(value: float) -> str:
    value = float(value)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size and value % size == 0:
            return f"{int(value // size)}{unit}"
    return f"{value:g}s"
