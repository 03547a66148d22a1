"""Durations as the config and the commands take them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pyworkflow._duration import as_duration, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("0s", timedelta(0)),
        (" 7d ", timedelta(days=7)),
    ],
)
def test_each_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "1.5h", "-1d", "3w", "30 days", "1h30m"])
def test_anything_else_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as error:
        parse_duration(text)
    assert "\n" not in str(error.value)


def test_library_values_may_be_timedeltas_but_not_negative() -> None:
    assert as_duration(timedelta(hours=1)) == timedelta(hours=1)
    assert as_duration(None) is None
    with pytest.raises(ValueError, match="negative"):
        as_duration(timedelta(seconds=-1))


@pytest.mark.parametrize("text", ["30d", "12h", "90m", "45s", "0s"])
def test_formatting_reads_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
