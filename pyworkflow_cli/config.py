"""The YAML config: found, read with a safe loader, and validated before anything runs.

A typo must never pass silently, so every key is checked against the schema
below and an unknown key is an error. Errors name the file, the key path and
what was expected, e.g. ``prod.yaml: backend.type: expected one of memory,
sqlite, postgres, amazonswf; got 'mysql'``.

String values may use ``${VAR}`` or ``${VAR:-default}`` to take secrets from
the environment (``$$`` is a literal ``$``). Secrets are remembered in
``Config.secrets`` so they can be masked in anything printed or logged: the
values of variables whose names say so (``*PASSWORD*``, ``*SECRET*``,
``*TOKEN*``, ``*KEY*``, ``*DSN*``...), whatever fills ``backend.dsn``, and the
password inside a DSN even when written in the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_VAR = "PYWORKFLOW_CONFIG"
# These override the config file's ``logging:``, so that one unit or one shell
# can turn on debug logs without editing a file shared with others.
LOG_LEVEL_VAR = "PYWORKFLOW_LOG_LEVEL"
LOG_FORMAT_VAR = "PYWORKFLOW_LOG_FORMAT"
DEFAULT_PATH = "pyworkflow.yaml"
DEFAULT_SQLITE_PATH = "pyworkflow.db"

# Each backend type and its settings: name -> required?
BACKEND_SETTINGS: dict[str, dict[str, bool]] = {
    "memory": {"retention": False},
    "sqlite": {"path": False, "busy_timeout": False, "wal_size_limit": False, "retention": False},
    "postgres": {
        "dsn": True,
        "schema": False,
        "connect_timeout": False,
        "statement_timeout": False,
        "keepalives_idle": False,
        "retention": False,
    },
    "amazonswf": {"domain": True, "region": False, "endpoint_url": False},
}
# Backend settings that are a positive number (seconds, or bytes for wal_size_limit).
NUMERIC_SETTINGS = frozenset(
    {"busy_timeout", "wal_size_limit", "connect_timeout", "statement_timeout", "keepalives_idle"}
)
WRAPPERS = ("blinker",)
LOG_FORMATS = ("auto", "json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

_TOP_KEYS = ("backend", "workflows", "plugins", "wrappers", "logging", "workers")
_LOGGING_KEYS = ("format", "level")
_WORKER_KEYS = {
    "activity": ("category", "concurrency", "identity", "metrics_port", "metrics_host"),
    "decision": ("category", "identity", "metrics_port", "metrics_host"),
}
_ENV_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Values from variables named like these, and passwords inside a DSN, are secrets.
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|DSN|AUTH", re.IGNORECASE)
_DSN_PASSWORDS = (
    re.compile(r"://[^:/@\s]*:([^@\s]+)@"),  # postgresql://user:password@host
    re.compile(r"\bpassword\s*=\s*'?([^'\s]+)"),  # password=... keyword form
)


@dataclass(frozen=True)
class BackendConfig:
    type: str = "sqlite"
    settings: Mapping[str, str] = field(default_factory=lambda: {"path": DEFAULT_SQLITE_PATH})


@dataclass(frozen=True)
class LoggingConfig:
    format: str = "auto"
    level: str = "info"


@dataclass(frozen=True)
class WorkerDefaults:
    category: str | None = None
    concurrency: int = 1
    identity: str | None = None
    metrics_port: int | None = None  # serve Prometheus metrics there; None: no metrics
    metrics_host: str | None = None


@dataclass(frozen=True)
class Config:
    """``source`` is the file read, or None when no file was found and defaults apply."""

    source: str | None = None
    backend: BackendConfig = field(default_factory=BackendConfig)
    workflows: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    wrappers: tuple[str, ...] = ()
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    activity_worker: WorkerDefaults = field(default_factory=WorkerDefaults)
    decision_worker: WorkerDefaults = field(default_factory=WorkerDefaults)
    secrets: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.source or f"default config (no {DEFAULT_PATH} found)"

    def redact(self, text: str) -> str:
        """``text`` with every value taken from the environment masked."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def find_config_path(
    option: str | None, environ: Mapping[str, str] | None = None
) -> tuple[str, bool]:
    """The config path to read and whether the user named it (then it must exist)."""
    environ = os.environ if environ is None else environ
    if option:
        return option, True
    if environ.get(ENV_VAR):
        return environ[ENV_VAR], True
    return DEFAULT_PATH, False


def load_config(option: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Find and read the config; with no file named and none in the current
    directory, the defaults (SQLite in ./pyworkflow.db, no workflows) apply."""
    environ = os.environ if environ is None else environ
    path, explicit = find_config_path(option, environ)
    if not Path(path).is_file():
        if explicit:
            where = f"${ENV_VAR}" if not option else "--config"
            raise ConfigError(f"config file {path!r} (from {where}) not found")
        return logging_from_environ(Config(), environ)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    return logging_from_environ(parse_config(text, path, environ), environ)


def logging_from_environ(config: Config, environ: Mapping[str, str]) -> Config:
    """``config`` with $PYWORKFLOW_LOG_LEVEL and $PYWORKFLOW_LOG_FORMAT applied."""
    from dataclasses import replace

    chosen = {}
    for variable, key, allowed in (
        (LOG_LEVEL_VAR, "level", LOG_LEVELS),
        (LOG_FORMAT_VAR, "format", LOG_FORMATS),
    ):
        value = environ.get(variable, "").strip().lower()
        if not value:
            continue
        if value not in allowed:
            raise ConfigError(
                f"${variable}: expected one of {', '.join(allowed)}; got {environ[variable]!r}"
            )
        chosen[key] = value
    if not chosen:
        return config
    return replace(config, logging=replace(config.logging, **chosen))


def parse_config(text: str, source: str, environ: Mapping[str, str] | None = None) -> Config:
    import yaml

    environ = os.environ if environ is None else environ
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = error.problem or str(error)
        raise ConfigError(f"{source}: {where}YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: YAML syntax error: {error}") from None
    return _Validator(source, environ).config(data)


class _Validator:
    def __init__(self, source: str, environ: Mapping[str, str]) -> None:
        self.source = source
        self.environ = environ
        self.secrets: set[str] = set()

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(
            f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}"
        )

    def config(self, data: Any) -> Config:
        if data is None:
            data = {}
        top = self.mapping(data, "", _TOP_KEYS)
        backend = self.backend(top.get("backend"))
        workers = self.mapping(top.get("workers") or {}, "workers", tuple(_WORKER_KEYS))
        config = Config(
            source=self.source,
            backend=backend,
            workflows=self.strings(top.get("workflows"), "workflows"),
            plugins=self.strings(top.get("plugins"), "plugins"),
            wrappers=self.wrappers(top.get("wrappers")),
            logging=self.logging(top.get("logging")),
            activity_worker=self.worker(workers.get("activity"), "activity"),
            decision_worker=self.worker(workers.get("decision"), "decision"),
        )
        return Config(**{**config.__dict__, "secrets": frozenset(self.secrets)})

    def mapping(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(
                path, f"expected a mapping with keys {', '.join(allowed)}; got {_kind(value)}"
            )
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(where, f"unknown key; expected one of {', '.join(allowed)}")
        return value

    def string(self, value: Any, path: str, text_only: bool = False) -> str:
        """``text_only`` where a number can only be a mistake (``path: 5`` would
        quietly create ./5); elsewhere YAML's unquoted numbers are taken as text."""
        numbers = () if text_only else (int, float)
        if isinstance(value, bool) or not isinstance(value, (str, *numbers)):
            raise self.fail(path, f"expected a string; got {_kind(value)}")
        return self.expand(str(value), path)

    def number(self, value: Any, path: str) -> str:
        """A positive number, kept as its text like every setting."""
        text = self.string(value, path)
        try:
            number = float(text)
        except ValueError:
            raise self.fail(path, f"expected a positive number; got {value!r}") from None
        if not number > 0 or number == float("inf"):
            raise self.fail(path, f"expected a positive number; got {value!r}")
        return text

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list of strings; got {_kind(value)}")
        return tuple(self.string(item, f"{path}[{index}]") for index, item in enumerate(value))

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        text = self.string(value, path).lower()
        if text not in choices:
            raise self.fail(path, f"expected one of {', '.join(choices)}; got {value!r}")
        return text

    def expand(self, text: str, path: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if name in self.environ:
                value = self.environ[name]
                if value and (_SECRET_NAME.search(name) or path == "backend.dsn"):
                    self.secrets.add(value)
                return value
            if default is not None:
                return default
            raise self.fail(path, f"environment variable {name} is not set")

        return _ENV_REFERENCE.sub(substitute, text)

    def backend(self, value: Any) -> BackendConfig:
        if value is None:
            return BackendConfig()
        if not isinstance(value, dict):
            raise self.fail("backend", f"expected a mapping with a type; got {_kind(value)}")
        kind = self.choice(value.get("type", "sqlite"), "backend.type", tuple(BACKEND_SETTINGS))
        known = BACKEND_SETTINGS[kind]
        if "retention" in value and "retention" not in known:
            raise self.fail(
                "backend.retention",
                f"backend type {kind} keeps closed processes for its own retention period "
                "(on Amazon SWF, the domain's); remove the key",
            )
        self.mapping(value, "backend", ("type", *known))
        settings = {
            key: self.number(item, f"backend.{key}")
            if key in NUMERIC_SETTINGS
            else self.string(item, f"backend.{key}", text_only=True)
            for key, item in value.items()
            if key != "type"
        }
        for key, required in known.items():
            if required and not settings.get(key):
                raise self.fail(f"backend.{key}", f"required for backend type {kind}")
        if "retention" in settings:
            self.duration(settings["retention"], "backend.retention")
        if kind == "sqlite":
            settings.setdefault("path", DEFAULT_SQLITE_PATH)
        for pattern in _DSN_PASSWORDS:
            self.secrets.update(pattern.findall(settings.get("dsn", "")))
        return BackendConfig(kind, settings)

    def duration(self, text: str, path: str) -> None:
        from pyworkflow._duration import parse_duration

        try:
            parse_duration(text)
        except ValueError as error:
            raise self.fail(path, str(error)) from None

    def wrappers(self, value: Any) -> tuple[str, ...]:
        names = self.strings(value, "wrappers")
        for index, name in enumerate(names):
            if name not in WRAPPERS:
                raise self.fail(
                    f"wrappers[{index}]", f"expected one of {', '.join(WRAPPERS)}; got {name!r}"
                )
        return names

    def logging(self, value: Any) -> LoggingConfig:
        data = self.mapping(value or {}, "logging", _LOGGING_KEYS)
        return LoggingConfig(
            format=self.choice(data.get("format", "auto"), "logging.format", LOG_FORMATS),
            level=self.choice(data.get("level", "info"), "logging.level", LOG_LEVELS),
        )

    def worker(self, value: Any, kind: str) -> WorkerDefaults:
        path = f"workers.{kind}"
        data = self.mapping(value or {}, path, _WORKER_KEYS[kind])
        concurrency = data.get("concurrency", 1)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise self.fail(
                f"{path}.concurrency", f"expected a whole number >= 1; got {concurrency!r}"
            )
        return WorkerDefaults(
            category=None
            if data.get("category") is None
            else self.string(data["category"], f"{path}.category"),
            concurrency=concurrency,
            identity=None
            if data.get("identity") is None
            else self.string(data["identity"], f"{path}.identity"),
            metrics_port=self.port(data.get("metrics_port"), f"{path}.metrics_port"),
            metrics_host=None
            if data.get("metrics_host") is None
            else self.string(data["metrics_host"], f"{path}.metrics_host"),
        )

    def port(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise self.fail(path, f"expected a port number from 0 to 65535; got {value!r}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
