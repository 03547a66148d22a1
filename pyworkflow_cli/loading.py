"""Find workflow classes from dotted paths.

A path is a module (every Workflow subclass *defined* in it, not the ones it
imports) or ``module:Class``. A workflow on the command line may be a name
from the config (``Foo``), its class name (``FooWorkflow``), or a path.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING

from .errors import ConfigError

if TYPE_CHECKING:
    from pyworkflow.workflow import Workflow


def import_module(name: str, what: str) -> ModuleType:
    """Import ``name``, turning a missing module into an error that names it."""
    if "" not in sys.path and "." not in sys.path:
        # Like `python -m`, let modules next to where the command runs be found.
        sys.path.insert(0, "")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        missing = error.name or name
        if name == missing or name.startswith(missing + "."):
            raise ConfigError(f"{what}: no module named {missing!r}") from None
        raise ConfigError(
            f"{what}: importing {name!r} failed: no module named {missing!r}"
        ) from None
    except ConfigError:
        raise
    except (Exception, SystemExit) as error:
        # A module that calls sys.exit() while being imported would otherwise end
        # the command with its code (3 reads "not found") and no word of why.
        raise ConfigError(
            f"{what}: importing {name!r} failed: {type(error).__name__}: {error}"
        ) from error


def load_workflows(path: str, what: str) -> list[type[Workflow]]:
    """The workflows ``path`` names: all defined in a module, or the one ``module:Class``."""
    from pyworkflow.workflow import Workflow

    module_name, _, attribute = path.partition(":")
    if not module_name:
        raise ConfigError(f"{what}: {path!r} is not a dotted path (module or module:Class)")
    module = import_module(module_name, what)
    workflows = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Workflow)
        and value.__module__ == module.__name__
        and value.__module__ != Workflow.__module__  # the library's own bases
        and not inspect.isabstract(value)
    ]
    if attribute:
        found = getattr(module, attribute, None)
        if isinstance(found, type) and issubclass(found, Workflow):
            return [found]
        named = [workflow for workflow in workflows if workflow.name == attribute]
        if not named:
            raise ConfigError(f"{what}: {module_name} has no Workflow subclass named {attribute!r}")
        return named
    if not workflows:
        raise ConfigError(f"{what}: module {module_name!r} defines no Workflow subclass")
    return workflows


def load_all(paths: Iterable[str], source: str) -> list[type[Workflow]]:
    workflows: list[type[Workflow]] = []
    for index, path in enumerate(paths):
        for workflow in load_workflows(path, f"{source}: workflows[{index}]"):
            if workflow not in workflows:
                check_names([*workflows, workflow], source)
                workflows.append(workflow)
    return workflows


def check_names(workflows: Iterable[type[Workflow]], source: str) -> None:
    """Refuse two classes under one workflow or activity name: names identify code
    in the history, so the backend could not tell which one a task is for."""
    for kind, classes in (
        ("workflow", list(workflows)),
        ("activity", [activity for workflow in workflows for activity in workflow.activities]),
    ):
        seen: dict[str, type] = {}
        for cls in classes:
            known = seen.setdefault(cls.name, cls)
            if known is not cls:
                raise ConfigError(
                    f"{source}: two {kind} classes are named {cls.name!r}: "
                    f"{_path(known)} and {_path(cls)}; rename one, or give it a distinct "
                    "`name` attribute"
                )


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def import_plugins(paths: Iterable[str], source: str) -> None:
    for index, path in enumerate(paths):
        import_module(path, f"{source}: plugins[{index}]")


def find_workflow(name: str, workflows: Iterable[type[Workflow]]) -> type[Workflow]:
    """The workflow ``name`` stands for: a registered name, a class name, or a path."""
    workflows = list(workflows)
    for workflow in workflows:
        if name in (workflow.name, workflow.__name__):
            return workflow
    if ":" in name:
        [workflow] = load_workflows(name, "workflow")
        return workflow
    known = ", ".join(sorted(workflow.name for workflow in workflows)) or "none configured"
    raise ConfigError(f"unknown workflow {name!r}; known workflows: {known}")
