"""The ``pyworkflow`` command.

Exit codes (the table is in :mod:`pyworkflow_cli.errors`): 0 success; 1 the
process ended failed, canceled or timed out (``wait``, ``run``, ``start
--wait``); 2 usage or config error; 3 not found; 4 backend unreachable; 5
still open when ``--timeout`` passed; 70 an
internal error (a bug: rerun with ``--debug``); 130 interrupted by Ctrl-C, 143
by SIGTERM (a command that waits for a process, or ``process run``).

Heavy modules (pyworkflow itself, PyYAML, structlog, backend drivers) are
imported inside the commands that need them, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .app import App
from .errors import EXIT_INTERRUPTED, InternalError, translate
from .options import config_option, debug_option, json_option
from .signals import Interrupted


class PyworkflowGroup(click.Group):
    """Turns every library or driver exception into a one-line error and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except (KeyboardInterrupt, Interrupted) as interrupt:
            # Click would print "Aborted!" and exit 1, the code for a failed process.
            click.echo("Interrupted.", err=True)
            code = interrupt.exit_code if isinstance(interrupt, Interrupted) else EXIT_INTERRUPTED
            raise click.exceptions.Exit(code) from None
        except Exception as error:
            app = ctx.find_object(App)
            debug = bool(app and app.debug)
            translated = translate(error) or InternalError(
                f"{type(error).__name__}: {error} (internal error"
                + ("" if debug else "; rerun with --debug for the traceback")
                + ")"
            )
            if debug:
                import traceback

                traceback.print_exception(error, file=sys.stderr)
            if app is not None and app._config is not None:
                translated = type(translated)(app._config.redact(translated.message))
            raise translated from error


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=PyworkflowGroup, context_settings=CONTEXT_SETTINGS)
@config_option
@debug_option
@json_option
@click.version_option(package_name="pyworkflow", prog_name="pyworkflow")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Run pyworkflow workers and drive processes from the shell.

    \b
    Quick look, no config needed (SQLite in ./pyworkflow.db):
      pyworkflow process run pyworkflow.examples.multiplication:Foo --input '[3,4]'

    \b
    With a config naming the backend and workflow modules:
      pyworkflow worker activity --config prod.yaml      # under systemd
      pyworkflow worker decision --config prod.yaml
      id=$(pyworkflow process start Foo --input '[3,4]')
      pyworkflow process wait "$id" --timeout 60 && pyworkflow process show "$id"

    \b
    Exit codes: 0 success; 1 the process ended failed, canceled or timed out
    (wait, run, start --wait); 2 usage or config error; 3 not found;
    4 backend unreachable; 5 still open when --timeout passed;
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    app = ctx.ensure_object(App)
    ctx.call_on_close(app.close)


def _register() -> None:
    from .commands.config import config
    from .commands.process import process
    from .commands.replay import replay
    from .commands.ui import ui
    from .commands.worker import worker

    cli.add_command(worker)
    cli.add_command(process)
    cli.add_command(config)
    cli.add_command(ui)
    cli.add_command(replay)


_register()


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="pyworkflow")
