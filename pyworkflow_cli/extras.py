"""Optional extras: the web UI and metrics need packages a plain install lacks.

Saying which ``pip install`` is missing beats an ImportError traceback, and
importing the packages here, only in the commands that use them, keeps the
command's start-up fast for everything else.
"""

from __future__ import annotations

import importlib

from .errors import CliError


def require_extra(extra: str, modules: tuple[str, ...], needed_by: str) -> None:
    """Import ``modules``, or fail (exit 2) naming the extra that brings them."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise CliError(
                f"{needed_by} needs the {module} package, which is not installed: "
                f"pip install 'pyworkflow[{extra}]'"
            ) from None
