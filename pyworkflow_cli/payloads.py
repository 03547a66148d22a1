"""Payload options: JSON given inline, ``@path`` to read a file, ``-`` for stdin."""

from __future__ import annotations

import json
import sys
from typing import Any

from .errors import CliError


def parse_payload(text: str | None, option: str) -> Any:
    if text is None:
        return None
    source = option
    if text == "-":
        text, source = sys.stdin.read(), f"{option} (stdin)"
    elif text.startswith("@"):
        path = text[1:]
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except OSError as error:
            raise CliError(f"{option}: cannot read {path!r}: {error.strerror or error}") from None
        source = f"{option} ({path})"
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(
            f"{source} is not JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            f" (quote strings: {option} '\"text\"')"
        ) from None
