"""SWF's size limits, checked before a call so the error names our field.

Failure reasons and details are the exception: a long traceback is truncated
with a marker rather than losing the outcome it describes.
"""

from __future__ import annotations

from typing import Any

from ...exceptions import PyworkflowError
from ...payload import check_payload, dumps

PAYLOAD = 32768  # input, result, details, control
NAME = 256  # ids, names, reasons
HEARTBEAT_DETAILS = 2048
DECISIONS_PER_RESPONSE = 100
TRUNCATED = "...[truncated]"


class SWFLimitError(PyworkflowError, ValueError):
    """A value is over one of SWF's limits."""


def payload(value: Any, field: str, limit: int = PAYLOAD) -> str:
    """``value`` as the JSON text SWF carries; falsy values travel as themselves."""
    text = dumps(check_payload(value, field))
    if len(text) > limit:
        raise SWFLimitError(f"{field} is {len(text)} characters as JSON; SWF allows {limit}")
    return text


def name(value: Any, field: str) -> str:
    text = str(value)
    if not text or len(text) > NAME:
        raise SWFLimitError(f"{field} must be 1 to {NAME} characters; got {len(text)}")
    return text


def truncated(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED


def failure_reason(value: Any) -> str:
    return truncated("" if value is None else str(value), NAME)


def failure_details(value: Any) -> str:
    """Details of a failure as JSON, cut to fit; a cut value is kept as a string."""
    text = dumps(check_payload(value, "details"))
    if len(text) <= PAYLOAD:
        return text
    return dumps(truncated(text, PAYLOAD - 2 - len(TRUNCATED)))


def decode(text: str | None) -> Any:
    import json

    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # written by another SWF client: keep it as it is
