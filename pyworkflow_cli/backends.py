"""Build the configured backend, importing its module only when it is used.

boto3 and psycopg take long to import; a shell script that runs ``pyworkflow
process start`` on SQLite must not pay for them. Backend modules that have
not landed yet (or whose driver is not installed) give a config error that
says so, rather than a traceback.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import NUMERIC_SETTINGS, BackendConfig, Config
from .errors import BackendUnreachableError, ConfigError, translate

if TYPE_CHECKING:
    from pyworkflow.backend.base import Backend

# type -> (module, class, extra to install when its driver is missing)
BACKEND_CLASSES: dict[str, tuple[str, str, str | None]] = {
    "memory": ("pyworkflow.backend.memory", "MemoryBackend", None),
    "sqlite": ("pyworkflow.backend.sqlite", "SQLiteBackend", None),
    "postgres": ("pyworkflow.backend.postgres", "PostgresBackend", "postgres"),
    "amazonswf": ("pyworkflow.backend.amazonswf", "AmazonSWFBackend", None),
}
WRAPPER_CLASSES: dict[str, tuple[str, str]] = {
    "blinker": ("pyworkflow.backend.blinker", "BlinkerBackend"),
}


# Backend types that can be told not to create their storage (``create=False``).
CREATES_STORAGE = frozenset({"sqlite"})
# Backend types that can be opened for reading only (``readonly=True``).
OPENS_READ_ONLY = frozenset({"sqlite"})


def create_backend(config: Config, create: bool = True, read_only: bool = False) -> Backend:
    """The backend ``config`` names, wrapped as configured; raises CliError on failure.

    ``create=False`` is for commands that only read or steer existing
    processes: they must not create an empty database at a wrong path.
    ``read_only=True`` is for commands that only read: where the backend can,
    it opens the storage for reading alone (a SQLite file on read-only media).
    """
    backend_class, wrappers = resolve_classes(config)
    arguments = _arguments(config.backend)
    if not create and config.backend.type in CREATES_STORAGE:
        arguments["create"] = False
    if read_only and config.backend.type in OPENS_READ_ONLY:
        arguments["readonly"] = True
    backend = _construct(config, config.backend, backend_class, arguments)
    for wrapper in wrappers:
        backend = wrapper(backend)
    return backend


def resolve_classes(config: Config) -> tuple[Any, list[Any]]:
    """Import the backend and wrapper classes, without opening anything."""
    module, cls, extra = BACKEND_CLASSES[config.backend.type]
    backend_class = _import_class(
        module, cls, f"backend type {config.backend.type!r}", config, extra
    )
    wrappers = [
        _import_class(*WRAPPER_CLASSES[name], f"wrapper {name!r}", config, None)
        for name in config.wrappers
    ]
    return backend_class, wrappers


def _construct(
    config: Config, backend: BackendConfig, backend_class: Any, arguments: dict[str, Any]
) -> Backend:
    try:
        return backend_class(**arguments)
    except Exception as error:
        translated = translate(error)
        if not isinstance(translated, (BackendUnreachableError, ConfigError)):
            translated = BackendUnreachableError(
                f"cannot open {backend.type} backend: {type(error).__name__}: {error}"
            )
        raise type(translated)(config.redact(translated.message)) from error


def _arguments(backend: BackendConfig) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        key: value for key, value in backend.settings.items() if value not in (None, "")
    }
    for key in NUMERIC_SETTINGS & arguments.keys():
        number = float(arguments[key])
        arguments[key] = int(number) if key == "wal_size_limit" else number
    return arguments


def _import_class(module: str, name: str, what: str, config: Config, extra: str | None) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name == module:
            reason = f"{module} is not part of this pyworkflow installation"
        else:
            hint = f" (pip install 'pyworkflow[{extra}]')" if extra else ""
            reason = f"it needs the module {error.name!r}, which is not installed{hint}"
        raise ConfigError(f"{config.name}: {what} is not available: {reason}") from None
    except AttributeError:
        raise ConfigError(
            f"{config.name}: {what} is not available: {module} has no {name}"
        ) from None
