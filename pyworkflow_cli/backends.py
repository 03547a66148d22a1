"""Build the configured backend, importing its module only when it is used.

boto3 and psycopg take long to import; a shell script that runs ``pyworkflow
process start`` on SQLite must not pay for them. Backend modules that have
not landed yet (or whose driver is not installed) give a config error that
says so, rather than a traceback.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import BackendConfig, Config
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


def create_backend(config: Config) -> Backend:
    """The backend ``config`` names, wrapped as configured; raises CliError on failure."""
    backend = _construct(config, config.backend)
    for name in config.wrappers:
        module, cls = WRAPPER_CLASSES[name]
        wrapper = _import_class(module, cls, f"wrapper {name!r}", config, None)
        backend = wrapper(backend)
    return backend


def _construct(config: Config, backend: BackendConfig) -> Backend:
    module, cls, extra = BACKEND_CLASSES[backend.type]
    backend_class = _import_class(module, cls, f"backend type {backend.type!r}", config, extra)
    try:
        return backend_class(**_arguments(backend))
    except Exception as error:
        translated = translate(error)
        if translated is None or not isinstance(translated, BackendUnreachableError):
            translated = BackendUnreachableError(
                f"cannot open {backend.type} backend: {type(error).__name__}: {error}"
            )
        raise BackendUnreachableError(config.redact(translated.message)) from error


def _arguments(backend: BackendConfig) -> dict[str, Any]:
    return {key: value for key, value in backend.settings.items() if value not in (None, "")}


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
