"""RetryPolicy on its own: waits, which results are retried, and bad arguments."""

from __future__ import annotations

import pytest

from pyworkflow.activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityFailed,
    ActivityTimedOut,
)
from pyworkflow.retry import RetryPolicy, error_name

TRACEBACK = 'Traceback (most recent call last):\n  File "x.py", line 1\n{}\n'


def test_waits_grow_by_the_coefficient_up_to_the_maximum():
    policy = RetryPolicy(
        max_attempts=10, initial_interval=10, backoff_coefficient=2, max_interval=70
    )
    assert [policy.delay(n) for n in range(1, 6)] == [10, 20, 40, 70, 70]


def test_jitter_spreads_each_wait_the_same_way_every_time():
    policy = RetryPolicy(initial_interval=10, jitter=0.5)
    waits = [policy.delay(1, seed=f"p/{index}") for index in range(50)]
    assert all(5 <= wait <= 15 for wait in waits)
    assert len(set(waits)) > 1
    assert waits == [policy.delay(1, seed=f"p/{index}") for index in range(50)]


@pytest.mark.parametrize(
    ("result", "attempt", "retried"),
    [
        (ActivityFailed("boom", TRACEBACK.format("RuntimeError: boom")), 1, True),
        (ActivityFailed("boom", TRACEBACK.format("RuntimeError: boom")), 3, False),
        (ActivityTimedOut("heartbeat"), 2, True),
        (ActivityCanceled("stop"), 1, False),
        (ActivityCompleted(1), 1, False),
        (ActivityFailed("bad", TRACEBACK.format("ValueError: bad")), 1, False),
        (ActivityFailed("out", TRACEBACK.format("shop.errors.OutOfStock: out")), 1, False),
        (ActivityFailed("no traceback"), 1, True),
    ],
)
def test_which_results_are_retried(result, attempt, retried):
    policy = RetryPolicy(max_attempts=3, non_retryable=["ValueError", "OutOfStock"])
    assert policy.retries(result, attempt) is retried


def test_a_qualified_name_matches_only_that_class():
    policy = RetryPolicy(non_retryable=["shop.errors.OutOfStock"])
    other = ActivityFailed("out", TRACEBACK.format("stock.OutOfStock: out"))
    assert policy.retries(other, 1)
    assert not policy.retries(ActivityFailed("out", TRACEBACK.format("shop.errors.OutOfStock")), 1)


def test_the_error_name_is_read_from_the_last_line_of_the_traceback():
    assert error_name(TRACEBACK.format("KeyError: 'x'")) == "KeyError"
    assert error_name("") is None
    assert error_name(None) is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"initial_interval": -1}, "initial_interval"),
        ({"max_interval": "10"}, "max_interval"),
        ({"backoff_coefficient": 0.5}, "backoff_coefficient"),
        ({"jitter": 2}, "jitter"),
    ],
)
def test_bad_arguments_are_refused_naming_them(arguments, message):
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**arguments)
