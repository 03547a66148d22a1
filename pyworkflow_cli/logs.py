"""Structured logs through structlog, for stdlib logs (the library's, the workflows') as well.

Workers log with the stdlib ``logging`` module (the library must not depend on
structlog) and put their fields in ``extra=``; ProcessorFormatter with
ExtraAdder turns those records into structlog events, so every task line has
process id, workflow or activity, attempt, outcome and duration as fields.

On a terminal the lines are coloured for people (plain when $NO_COLOR is
set); elsewhere (journald, files, pipes) they are JSON, one object a line.
Values that came from environment variables in the config (secrets) are
masked in every field.

Named ``logs`` rather than ``logging`` so it never shadows the stdlib module.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

LIBRARY_LOGGER = "pyworkflow"
# Third-party loggers kept at WARNING or above whatever the configured level.
QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "psycopg", "asyncio")


class RedactSecrets:
    """A structlog processor masking secret values anywhere in a field.

    Fields are often lists or dicts (the worker names at start-up, a task's
    input), so it looks inside containers too; anything else that is not a
    string is masked in its text form, since the renderer would print that.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = sorted((secret for secret in secrets if secret), key=len, reverse=True)

    def __call__(self, logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        if self.secrets:
            for key, value in event_dict.items():
                event_dict[key] = self._redact(value)
        return event_dict

    def _redact(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._mask(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, dict):
            return {self._redact(key): self._redact(item) for key, item in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self._redact(item) for item in value]
        text = str(value)
        masked = self._mask(text)
        return value if masked == text else masked

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def wants_console(format: str, stream: TextIO) -> bool:
    if format == "auto":
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return format == "console"


def wants_colour(environ: Mapping[str, str] | None = None) -> bool:
    """Colours on a terminal, unless $NO_COLOR is set to anything (no-color.org)."""
    environ = os.environ if environ is None else environ
    return not environ.get("NO_COLOR")


def configure_logging(
    format: str = "auto",
    level: str = "info",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record at ``level`` or above to ``stream``, as structured lines.

    Records logged inside a task carry its fields (see
    :mod:`pyworkflow_cli.task_context`) through ``merge_contextvars``.
    """
    import structlog

    stream = sys.stderr if stream is None else stream
    console = wants_console(format, stream)
    redact = RedactSecrets(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if console:
        renderer = structlog.dev.ConsoleRenderer(colors=wants_colour())
        final: list[Any] = [redact, renderer]
    else:
        final = [structlog.processors.format_exc_info, redact, structlog.processors.JSONRenderer()]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_pyworkflow_cli", False):
            root.removeHandler(old)
    handler._pyworkflow_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    # The configured level is for every logger, the workflow modules' own
    # included: their lines are part of what a worker does.
    threshold = logging.getLevelName(level.upper())
    root.setLevel(threshold)
    logging.getLogger(LIBRARY_LOGGER).setLevel(threshold)
    for name in QUIET_LOGGERS:
        # Drivers chatter (every HTTP request, every SQL statement) below WARNING.
        logging.getLogger(name).setLevel(max(threshold, logging.WARNING))

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return handler
