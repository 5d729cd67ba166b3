"""Durations as sysops type them."""

import pytest

from bbs.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("7d", 604800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("2h 5m", 7500),
        (" 2H ", 7200),
    ],
)
def test_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["perm", "permanent", "Forever"])
def test_permanent(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Missing duration"),
        ("30", "Not a duration"),
        ("2x", "Not a duration"),
        ("h", "Not a duration"),
        ("2h5", "Not a duration"),
        ("-5m", "Not a duration"),
        ("0m", "longer than zero"),
        ("600w", "at most 10 years"),
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0s"),
        (45, "45s"),
        (90, "1m 30s"),
        (7505, "2h 5m"),
        (7205, "2h"),
        (259200, "3d"),
        (604800 + 3600, "1w"),
        (691200, "1w 1d"),
        (-10, "0s"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [90, 1800, 7500, 259200, 691200])
def test_format_reads_back(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
