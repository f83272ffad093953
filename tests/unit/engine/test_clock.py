"""RFC 3339 times parsed by hand (engine/clock.py) as time.strptime and timegm would."""

from __future__ import annotations

import calendar
import random
import time

import pytest

from dockyard.engine.clock import format_ns, parse_ns


def test_parse_agrees_with_strptime_and_timegm() -> None:
    rng = random.Random(11)
    for _ in range(2000):
        ns = rng.randrange(-(10**19), 10**20)  # 1653 to 5138
        text = format_ns(ns)
        expected = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) * 10**9
        assert parse_ns(text) == expected + ns % 10**9 == ns


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("", 0),
        ("0001-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00Z", 0),
        ("2026-12-02T05:49:21.5Z", 1796190561_500_000_000),
        ("2026-12-02t05:49:21.000000001z", 1796190561_000_000_001),
        ("2026-12-02T07:49:21+02:00", 1796190561_000_000_000),
        ("2026-12-02T03:19:21.25-02:30", 1796190561_250_000_000),
        ("2024-02-29T23:59:60Z", 1709251200_000_000_000),  # a leap second, as strptime takes it
    ],
)
def test_parse(text: str, ns: int) -> None:
    assert parse_ns(text) == ns


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2026-12-02",
        "2026-12-02 05:49:21Z",
        "2026-13-02T05:49:21Z",
        "2026-00-02T05:49:21Z",
        "2026-02-29T05:49:21Z",  # not a leap year
        "2100-02-29T05:49:21Z",
        "2026-04-31T05:49:21Z",
        "2026-12-02T24:00:00Z",
        "2026-12-02T05:60:21Z",
        "2026-12-02T05:49:62Z",
        "2026-1a-02T05:49:21Z",
        "+026-12-02T05:49:21Z",
        "2026-12-02T05:49:2\u0661Z",  # a digit, but not an ASCII one
    ],
)
def test_parse_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        parse_ns(text)
