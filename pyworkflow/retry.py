"""Retry policies: how often, and how long apart, a failed activity is tried again.

A policy is a value stored with the ``ScheduleActivity`` decision that carries it,
so the history alone says how an activity was to be retried; the bookkeeping that
applies it lives in :mod:`pyworkflow.retrying`, above every backend.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import Any

from ._value import Value

_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


class RetryPolicy(Value):
    """Try an activity up to ``max_attempts`` times in all, waiting
    ``min(max_interval, initial_interval * backoff_coefficient ** (n - 1))`` seconds
    after attempt ``n`` fails or times out.

    ``non_retryable`` names exception classes (``"ValueError"``, or a qualified
    ``"shop.errors.OutOfStock"``) whose failures end the activity at once.
    ``jitter`` (0 to 1, off by default) spreads each wait by up to that fraction,
    derived from the process, activity and attempt so that a replay gets the same wait.
    """

    _fields = (
        "max_attempts",
        "initial_interval",
        "backoff_coefficient",
        "max_interval",
        "non_retryable",
        "jitter",
    )

    def __init__(
        self,
        max_attempts: int = 3,
        initial_interval: float = 1.0,
        backoff_coefficient: float = 2.0,
        max_interval: float = 100.0,
        non_retryable: Iterable[str] = (),
        jitter: float = 0.0,
    ) -> None:
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError("max_attempts must be a whole number >= 1")
        for name, number in (
            ("initial_interval", initial_interval),
            ("max_interval", max_interval),
        ):
            if not isinstance(number, (int, float)) or number < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0")
        if not isinstance(backoff_coefficient, (int, float)) or backoff_coefficient < 1:
            raise ValueError("backoff_coefficient must be a number >= 1")
        if not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ValueError("jitter must be a fraction between 0 and 1")
        if isinstance(non_retryable, str):
            non_retryable = (non_retryable,)
        self.max_attempts = max_attempts
        self.initial_interval = initial_interval
        self.backoff_coefficient = backoff_coefficient
        self.max_interval = max_interval
        self.non_retryable = list(non_retryable)
        self.jitter = jitter

    def delay(self, attempt: int, seed: str = "") -> float:
        """Seconds to wait after attempt number ``attempt`` ended."""
        wait = min(
            self.max_interval,
            self.initial_interval * self.backoff_coefficient ** (attempt - 1),
        )
        if self.jitter:
            spread = random.Random(f"{seed}/{attempt}").uniform(-self.jitter, self.jitter)
            wait = max(0.0, wait * (1 + spread))
        return float(wait)

    def retries(self, result: Any, attempt: int) -> bool:
        """Whether an attempt that ended with ``result`` is tried again."""
        if attempt >= self.max_attempts:
            return False
        if result.type == "timedout":
            return True
        if result.type != "failed":
            return False
        error = error_name(result.details)
        if error is None:
            return True
        return not any(
            error == name or error.rsplit(".", 1)[-1] == name for name in self.non_retryable
        )


def error_name(details: Any) -> str | None:
    """The exception class named on a traceback's last line, as workers record it."""
    if not isinstance(details, str):
        return None
    lines = [line for line in details.strip().splitlines() if line.strip()]
    if not lines:
        return None
    found = _ERROR_LINE.match(lines[-1].strip())
    return found.group(1) if found else None
