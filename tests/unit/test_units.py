"""go-units' sizes and durations against go-units' own tests and Docker's listings."""

from __future__ import annotations

import time

import pytest

from dockyard.oci.units import bytes_size, go_rfc3339, go_time, human_duration, human_size

KB, MB, GB, TB, PB = 1000, 1000**2, 1000**3, 1000**4, 1000**5
KIB, MIB, GIB, TIB, PIB = 1024, 1024**2, 1024**3, 1024**4, 1024**5


@pytest.mark.parametrize(
    ("size", "want"),
    [
        (1000, "1kB"),
        (1024, "1.024kB"),
        (1000000, "1MB"),
        (1048576, "1.049MB"),
        (2 * MB, "2MB"),
        (3.42 * GB, "3.42GB"),
        (5.372 * TB, "5.372TB"),
        (2.22 * PB, "2.22PB"),
        (10000000000000 * PB, "1e+04YB"),
    ],
)
def test_human_size(size: float, want: str) -> None:
    assert human_size(size, 4) == want  # go-units' HumanSize is precision 4


@pytest.mark.parametrize(
    ("size", "want"),
    [
        (0, "0B"),
        (999, "999B"),
        (4261000, "4.26MB"),  # busybox as docker images shows it
        (4_269_999, "4.27MB"),
        (999_999, "1e+03kB"),  # Go's %.3g rounds up to 1e+03 too
        (1_234_567_890, "1.23GB"),
    ],
)
def test_listing_sizes_have_three_digits(size: float, want: str) -> None:
    assert human_size(size) == want


@pytest.mark.parametrize(
    ("size", "want"),
    [
        (1024, "1KiB"),
        (1024 * 1024, "1MiB"),
        (2 * MIB, "2MiB"),
        (3.42 * GIB, "3.42GiB"),
        (5.372 * TIB, "5.372TiB"),
        (2.22 * PIB, "2.22PiB"),
        (KIB**5 * PIB, "1.049e+06YiB"),
        (256 * MIB, "256MiB"),
    ],
)
def test_bytes_size(size: float, want: str) -> None:
    assert bytes_size(size) == want


MINUTE, HOUR, DAY = 60, 3600, 86400
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (0.45, "Less than a second"),
        (1, "1 second"),
        (47, "47 seconds"),
        (MINUTE, "About a minute"),
        (3 * MINUTE, "3 minutes"),
        (35 * MINUTE, "35 minutes"),
        (35 * MINUTE + 40, "35 minutes"),
        (HOUR, "About an hour"),
        (HOUR + 45 * MINUTE, "2 hours"),
        (3 * HOUR, "3 hours"),
        (3 * HOUR + 59 * MINUTE, "4 hours"),
        (3 * HOUR + 60 * MINUTE, "4 hours"),
        (DAY, "24 hours"),
        (DAY + 12 * HOUR, "36 hours"),
        (2 * DAY, "2 days"),
        (7 * DAY, "7 days"),
        (13 * DAY + 5 * HOUR, "13 days"),
        (2 * WEEK, "2 weeks"),
        (2 * WEEK + 4 * DAY, "2 weeks"),
        (3 * WEEK, "3 weeks"),
        (4 * WEEK, "4 weeks"),
        (4 * WEEK + 3 * DAY, "4 weeks"),
        (MONTH, "4 weeks"),
        (MONTH + 2 * WEEK, "6 weeks"),
        (2 * MONTH, "2 months"),
        (3 * MONTH + WEEK, "3 months"),
        (5 * MONTH + 2 * WEEK, "5 months"),
        (13 * MONTH, "13 months"),
        (23 * MONTH, "23 months"),
        (24 * MONTH, "24 months"),
        (24 * MONTH + 2 * WEEK, "2 years"),
        (3 * YEAR + 2 * MONTH, "3 years"),
        (-5, "Less than a second"),
    ],
)
def test_human_duration(seconds: float, want: str) -> None:
    assert human_duration(seconds) == want


def test_go_time_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert go_time(1700000000) == "2023-11-14 22:13:20 +0000 UTC"
        assert go_rfc3339(1700000000) == "2023-11-14T22:13:20Z"
        monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
        time.tzset()
        assert go_time(1700000000) == "2023-11-14 23:13:20 +0100 CET"
        assert go_rfc3339(1700000000) == "2023-11-14T23:13:20+01:00"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
