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
    try:
        seconds = _timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        raise ValueError(f"not an RFC 3339 time: {text!r}") from None
    offset = 0
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        hours, _, minutes = zone[1:].partition(":")
        offset = sign * (int(hours) * 3600 + int(minutes or 0) * 60)
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return (seconds - offset) * 1_000_000_000 + nanos


def _timegm(t: time.struct_time) -> int:
    days = _days_from_civil(t.tm_year, t.tm_mon, t.tm_mday)
    return days * 86400 + t.tm_hour * 3600 + t.tm_min * 60 + t.tm_sec


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468
