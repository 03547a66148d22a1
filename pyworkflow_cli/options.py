"""Options every command takes, so they work before or after the subcommand:
``pyworkflow --config prod.yaml worker activity`` and ``pyworkflow worker
activity --config prod.yaml`` mean the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .app import App

F = TypeVar("F", bound=Callable[..., Any])


def _app(ctx: click.Context) -> App:
    return ctx.ensure_object(App)


def _set_config(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        _app(ctx).config_path = value


def _set_debug(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        _app(ctx).debug = True


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        _app(ctx).json = True


config_option = click.option(
    "--config",
    "-c",
    metavar="PATH",
    expose_value=False,
    is_eager=True,
    callback=_set_config,
    help="YAML config file [default: $PYWORKFLOW_CONFIG, else ./pyworkflow.yaml].",
)
debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_set_debug,
    help="Debug logs, and a traceback with any error.",
)
json_option = click.option(
    "--json",
    "json_output",
    is_flag=True,
    expose_value=False,
    callback=_set_json,
    help="Print data as JSON, for scripts.",
)


def common_options(func: F) -> F:
    return config_option(debug_option(func))


def data_options(func: F) -> F:
    return config_option(debug_option(json_option(func)))


pass_app = click.make_pass_decorator(App, ensure=True)
