"""v2 cpu controller: cpu.weight (from shares), cpu.max, cpu.max.burst, cpu.idle."""

from __future__ import annotations

import errno

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.cpu"
DEFAULT_PERIOD = 100000


def weight_from_shares(shares: int) -> int:
    """cpu.weight [1, 10000] for v1 cpu.shares [2, 262144], runc's linear map."""
    if shares == 0:
        return 0
    shares = min(max(shares, 2), 262144)
    return 1 + ((shares - 2) * 9999) // 262142


def set(directory: str, cpu: dict[str, Any]) -> None:
    shares = values.unsigned(cpu, "shares", FIELD) or 0
    quota = values.limit(cpu, "quota", FIELD) or 0
    period = values.unsigned(cpu, "period", FIELD) or 0
    burst = values.unsigned(cpu, "burst", FIELD)
    idle = values.integer(cpu, "idle", FIELD)
    for key in ("realtimeRuntime", "realtimePeriod"):
        if values.integer(cpu, key, FIELD):
            raise Unsupported(f"{FIELD}.{key}: cgroup v2 has no real-time CPU bandwidth control")
    if idle is not None:
        fs.write(directory, "cpu.idle", str(idle), f"{FIELD}.idle")
    if shares and idle != 1:  # an idle group takes no weight
        fs.write(directory, "cpu.weight", str(weight_from_shares(shares)), f"{FIELD}.shares")
    retry_burst = False
    if burst is not None:
        try:
            fs.write(directory, "cpu.max.burst", str(burst), f"{FIELD}.burst")
        except InvalidSpec as exc:
            # A burst above the old quota is refused until the new quota is in.
            cause = exc.__cause__
            if not (quota and isinstance(cause, OSError) and cause.errno == errno.EINVAL):
                raise
            retry_burst = True
    if quota or period:
        text = f"{quota if quota > 0 else 'max'} {period or DEFAULT_PERIOD}"
        fs.write(directory, "cpu.max", text, f"{FIELD}.quota")
        if retry_burst:
            fs.write(directory, "cpu.max.burst", str(burst), f"{FIELD}.burst")


def stats(directory: str) -> dict[str, Any]:
    stat = fs.read_keyed(directory, "cpu.stat")
    return {
        "usage": {
            "total": stat.get("usage_usec", 0) * 1000,
            "percpu": [],
            "kernel": stat.get("system_usec", 0) * 1000,
            "user": stat.get("user_usec", 0) * 1000,
        },
        "throttling": {
            "periods": stat.get("nr_periods", 0),
            "throttledPeriods": stat.get("nr_throttled", 0),
            "throttledTime": stat.get("throttled_usec", 0) * 1000,
        },
    }
