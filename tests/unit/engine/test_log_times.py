"""`logs --since/--until` read as Docker's CLI reads them (its GetTimestamp)."""

from __future__ import annotations

import time

import pytest

from dockyard.engine.logs import parse_since
from dockyard.errors import InvalidArgument

NOW = 1_700_000_000 * 10**9


def local(text: str) -> int:
    """``text`` (YYYY-mm-ddTHH:MM:SS) read in the local zone, as Docker reads a zoneless time."""
    return int(time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))) * 10**9


def test_unix_times_and_durations() -> None:
    assert parse_since("", NOW) == 0
    assert parse_since("1700000000.5", NOW) == 1_700_000_000_500_000_000
    assert parse_since("1h30m", NOW) == NOW - 5400 * 10**9
    assert parse_since("45s", NOW) == NOW - 45 * 10**9


def test_rfc3339_whole_or_cut_short_with_or_without_a_zone() -> None:
    assert parse_since("2000-01-01T10:30:00Z") == 946722600 * 10**9
    assert parse_since("2000-01-01T10:30:00.25+01:00") == 946719000 * 10**9 + 250_000_000
    assert parse_since("2000-01-01Z") == 946684800 * 10**9
    assert parse_since("2000-01-01T10Z") == 946720800 * 10**9
    assert parse_since("2000-01-01T10:30+02:00") == (946722600 - 7200) * 10**9
    # no zone: the local one
    assert parse_since("2000-01-01") == local("2000-01-01T00:00:00")
    assert parse_since("2000-01-01T10") == local("2000-01-01T10:00:00")
    assert parse_since("2000-01-01T10:30") == local("2000-01-01T10:30:00")


def test_anything_else_is_refused_in_dockers_words() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_since("bogus", option="until")
    assert str(caught.value) == (
        'invalid value for "until": failed to parse value as time or duration: "bogus"'
    )
    with pytest.raises(InvalidArgument):
        parse_since("2000-13-45")
