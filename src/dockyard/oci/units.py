"""Sizes and durations as Docker prints them (docker/go-units), and Go's time strings.

Every column Docker shows a size or an age in goes through these, so they
live once: ``human_size`` (powers of 1000, ``%.*g``: "23.4MB", "1e+03kB"
never happens because 1000 moves to the next unit), ``bytes_size`` (powers
of 1024, four digits: "256MiB"), ``human_duration`` ("About a minute",
"3 weeks"). Python's ``%g`` and Go's agree on precision, exponent and
trailing zeros, which is why the format strings below are Go's own.
"""

from __future__ import annotations

import time

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scaled(size: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def human_size(size: float, precision: int = 3) -> str:
    """go-units' HumanSizeWithPrecision: what ``images``, ``ps -s`` and ``history`` show.
    (Docker's listings use precision 3; ``HumanSize`` itself is precision 4.)"""
    value, unit = _scaled(float(size), 1000.0, _DECIMAL)
    return f"{value:.{precision}g}{unit}"


def bytes_size(size: float) -> str:
    """go-units' BytesSize: binary units, four digits ("1.5GiB"), for memory."""
    value, unit = _scaled(float(size), 1024.0, _BINARY)
    return f"{value:.4g}{unit}"


def human_duration(seconds: float) -> str:
    """go-units' HumanDuration: "Less than a second", "About a minute", "2 hours"..."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)  # rounded, as go-units rounds hours
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"  # years from the unrounded hours


def go_time(seconds: float) -> str:
    """Go's ``time.Unix(s, 0).String()`` in the local zone: "2024-05-01 10:20:30 +0200 CEST",
    as ``ps`` and ``images`` show ``.CreatedAt``."""
    local = time.localtime(int(seconds))
    return time.strftime("%Y-%m-%d %H:%M:%S %z ", local) + (local.tm_zone or "UTC")


def go_rfc3339(seconds: float) -> str:
    """Go's ``time.Unix(s, 0).Format(time.RFC3339)`` in the local zone ("...Z" in UTC)."""
    local = time.localtime(int(seconds))
    offset = local.tm_gmtoff or 0
    if offset == 0:
        zone = "Z"
    else:
        sign = "-" if offset < 0 else "+"
        offset = abs(offset)
        zone = f"{sign}{offset // 3600:02d}:{offset % 3600 // 60:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + zone
