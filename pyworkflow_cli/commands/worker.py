"""``pyworkflow worker``: run activity and decision workers in the foreground.

Made to run under systemd (see contrib/systemd/): logs are JSON lines on
stderr when not on a terminal, SIGTERM (or SIGHUP) finishes the task in hand
and exits 0, and with ``Type=notify`` the worker says when it is ready and
feeds the watchdog while it makes progress (:mod:`pyworkflow_cli.sdnotify`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..app import App
from ..errors import ConfigError
from ..options import common_options, pass_app
from ..worker_metrics import metrics_hooks

if TYPE_CHECKING:
    from pyworkflow.hooks import WorkerHook
    from pyworkflow.worker import Worker


def _worker_options(concurrency: bool) -> Callable[[Any], Any]:
    def decorate(func: Any) -> Any:
        options = [
            click.option(
                "--category", metavar="NAME", help="Task list to poll [config, else 'default']."
            ),
            click.option(
                "--identity", metavar="NAME", help="Worker name in logs [config, else host:pid]."
            ),
            click.option(
                "--max-tasks",
                type=click.IntRange(min=1),
                metavar="N",
                help="Exit 0 after handling N tasks (per worker).",
            ),
            click.option(
                "--exit-when-idle",
                is_flag=True,
                help="Exit 0 as soon as no task is waiting (4 if the backend could not be polled).",
            ),
            click.option(
                "--metrics-port",
                type=click.IntRange(0, 65535),
                metavar="N",
                help="Serve Prometheus metrics on port N at /metrics [config, else none].",
            ),
            click.option(
                "--metrics-host",
                metavar="HOST",
                help="Address the metrics listen on [config, else 127.0.0.1].",
            ),
        ]
        if concurrency:
            options.insert(
                1,
                click.option(
                    "--concurrency",
                    type=click.IntRange(min=1),
                    metavar="N",
                    help="Activities run at once, in threads [config, else 1].",
                ),
            )
        for option in reversed(options):
            func = option(func)
        return common_options(func)

    return decorate


@click.group()
def worker() -> None:
    """Run workers: they poll the backend for tasks and handle them until stopped.

    SIGTERM, SIGHUP or Ctrl-C stops polling, finishes the task in hand and
    exits 0; a second Ctrl-C exits at once. Under systemd (Type=notify) the
    worker reports READY=1, feeds the watchdog and reports STOPPING=1.
    """


@worker.command()
@_worker_options(concurrency=True)
@pass_app
def activity(
    app: App,
    category: str | None,
    concurrency: int | None,
    identity: str | None,
    max_tasks: int | None,
    exit_when_idle: bool,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Run the activities of the configured workflows.

    \b
    Examples:
      pyworkflow worker activity --config prod.yaml
      pyworkflow worker activity --category images --concurrency 4
      pyworkflow worker activity --max-tasks 10 --exit-when-idle
    """
    setup_logging(app)
    hooks = metrics_hooks(metrics_port, metrics_host, app.config.activity_worker)
    workers = [_activity_worker(app, category, concurrency, identity, hooks)]
    _run(app, workers, max_tasks, exit_when_idle)


@worker.command()
@_worker_options(concurrency=False)
@pass_app
def decision(
    app: App,
    category: str | None,
    identity: str | None,
    max_tasks: int | None,
    exit_when_idle: bool,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Run the deciders of the configured workflows.

    \b
    Examples:
      pyworkflow worker decision --config prod.yaml
      pyworkflow worker decision --identity decider-1 --exit-when-idle
    """
    setup_logging(app)
    hooks = metrics_hooks(metrics_port, metrics_host, app.config.decision_worker)
    workers = [_decision_worker(app, category, identity, hooks)]
    _run(app, workers, max_tasks, exit_when_idle)


@worker.command(name="all")
@_worker_options(concurrency=True)
@pass_app
def all_workers(
    app: App,
    category: str | None,
    concurrency: int | None,
    identity: str | None,
    max_tasks: int | None,
    exit_when_idle: bool,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Run an activity worker and a decision worker in one process.

    For one machine and for development. --category, --identity and
    --max-tasks apply to each of the two workers; metrics of both are served
    on one port, from --metrics-port, else workers.activity.metrics_port,
    else workers.decision.metrics_port.

    \b
    Examples:
      pyworkflow worker all
      pyworkflow worker all --config dev.yaml --exit-when-idle
    """
    setup_logging(app)
    sections = (app.config.activity_worker, app.config.decision_worker)
    hooks = metrics_hooks(metrics_port, metrics_host, *sections)
    workers = [
        _activity_worker(app, category, concurrency, identity and f"{identity}-activity", hooks),
        _decision_worker(app, category, identity and f"{identity}-decision", hooks),
    ]
    _run(app, workers, max_tasks, exit_when_idle)


def _default_identity(kind: str) -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}:{kind}"


def _activity_worker(
    app: App,
    category: str | None,
    concurrency: int | None,
    identity: str | None,
    hooks: list[WorkerHook],
) -> Worker:
    from pyworkflow.worker import ActivityWorker

    defaults = app.config.activity_worker
    return ActivityWorker(
        _manager(app),
        name=identity or defaults.identity or _default_identity("activity"),
        category=category or defaults.category,
        concurrency=concurrency or defaults.concurrency,
        hooks=[*_hooks(app), *hooks],
    )


def _decision_worker(
    app: App, category: str | None, identity: str | None, hooks: list[WorkerHook]
) -> Worker:
    from pyworkflow.worker import DecisionWorker

    defaults = app.config.decision_worker
    return DecisionWorker(
        _manager(app),
        name=identity or defaults.identity or _default_identity("decision"),
        category=category or defaults.category,
        hooks=[*_hooks(app), *hooks],
    )


def _hooks(app: App) -> list[Any]:
    """The command's hooks, one PollHealth shared by the workers of this command."""
    from ..health import PollHealth
    from ..task_context import LogContextHook

    if app.health is None:
        app.health = PollHealth()
    return [LogContextHook(), app.health]


def _manager(app: App) -> Any:
    if not app.workflows:
        raise ConfigError(
            f"{app.config.name}: no workflows configured; list workflow modules under 'workflows:'"
        )
    return app.manager


def setup_logging(app: App) -> None:
    from ..logs import configure_logging

    config = app.config
    level = "debug" if app.debug else config.logging.level
    configure_logging(config.logging.format, level, config.secrets)


def _run(app: App, workers: list[Worker], max_tasks: int | None, exit_when_idle: bool) -> None:
    import logging

    from ..running import run_workers

    config = app.config
    logging.getLogger("pyworkflow.cli").info(
        "starting %s",
        " and ".join(f"{worker.kind} worker" for worker in workers),
        extra={
            "config": config.source,
            "backend": config.backend.type,
            "workflows": sorted(workflow.name for workflow in app.workflows),
            "workers": [worker.name for worker in workers],
        },
    )
    from ..errors import BackendUnreachableError
    from ..sdnotify import service

    health = app.health
    assert health is not None
    with service(health, stopping=lambda: any(worker.stopping for worker in workers)) as ready:
        run_workers(workers, max_tasks, exit_when_idle, on_started=ready)
    failure = health.last_poll_failure()
    if exit_when_idle and failure is not None:
        # It stopped because it could not poll, not because nothing was waiting.
        raise BackendUnreachableError(f"backend unreachable: the last poll failed: {failure}")
