"""Times as Docker writes and shows them: RFC 3339 with nanoseconds, and go-units' durations."""

from __future__ import annotations

import time

from dockyard.oci.units import human_duration

__all__ = ["ZERO", "format_ns", "human_duration", "parse_ns", "rfc3339_now"]


def rfc3339_now() -> str:
    return format_ns(time.time_ns())


def format_ns(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


ZERO = "0001-01-01T00:00:00Z"  # Go's zero time: what Docker shows for "never"


def parse_ns(text: str) -> int:
    """RFC 3339 (UTC "Z" or an offset, any fraction) -> nanoseconds since the epoch; 0 if empty."""
    if not text or text.startswith("0001-01-01"):
        return 0
    head, zone = text[:19], text[19:]
    fraction = ""
    if zone.startswith("."):
        digits = ""
        for ch in zone[1:]:
            if not ch.isdigit():
                break
            digits += ch
        fraction, zone = digits, zone[1 + len(digits) :]
    seconds = _seconds(head)
    if seconds is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    offset = 0
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        hours, _, minutes = zone[1:].partition(":")
        offset = sign * (int(hours) * 3600 + int(minutes or 0) * 60)
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return (seconds - offset) * 1_000_000_000 + nanos


def _seconds(head: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) -> seconds since the epoch; None if it is not one.

    By hand, not time.strptime: that imports _strptime, datetime, calendar,
    locale and re (~5 ms), which ``run --rm`` would pay to read its exit time.
    """
    if len(head) != 19 or head[4] + head[7] + head[13] + head[16] != "--::":
        return None
    if head[10] not in "Tt":
        return None
    fields = (head[0:4], head[5:7], head[8:10], head[11:13], head[14:16], head[17:19])
    if not all(f.isascii() and f.isdigit() for f in fields):
        return None
    year, month, day, hour, minute, second = map(int, fields)
    if not (1 <= month <= 12 and 1 <= day <= _month_days(year, month)):
        return None
    if hour > 23 or minute > 59 or second > 61:  # strptime's range: leap seconds
        return None
    return _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second


def _month_days(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
