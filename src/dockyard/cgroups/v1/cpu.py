"""v1 cpu and cpuacct controllers: CFS shares, quota and period, RT bandwidth, idle."""

from __future__ import annotations

import errno
import posix

from dockyard.cgroups import fs, values
from dockyard.errors import HostError, InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.cpu"


def set(directory: str, cpu: dict[str, Any]) -> None:
    shares = values.unsigned(cpu, "shares", FIELD) or 0
    quota = values.limit(cpu, "quota", FIELD) or 0
    period = values.unsigned(cpu, "period", FIELD) or 0
    burst = values.unsigned(cpu, "burst", FIELD)
    rt_runtime = values.limit(cpu, "realtimeRuntime", FIELD) or 0
    rt_period = values.unsigned(cpu, "realtimePeriod", FIELD) or 0
    idle = values.integer(cpu, "idle", FIELD)
    if rt_period or rt_runtime:
        _pair(
            directory,
            ("cpu.rt_period_us", rt_period, "realtimePeriod"),
            ("cpu.rt_runtime_us", rt_runtime, "realtimeRuntime"),
        )
    if shares:
        fs.write(directory, "cpu.shares", str(shares), f"{FIELD}.shares")
        # The kernel clamps shares to [2, 262144] without a word: say so.
        got = fs.read_int(directory, "cpu.shares")
        if got != shares:
            bound = "maximum" if shares > got else "minimum"
            raise InvalidSpec(f"{FIELD}.shares", f"{shares} is beyond the {bound} of {got}")
    if period or quota:
        _pair(
            directory, ("cpu.cfs_period_us", period, "period"), ("cpu.cfs_quota_us", quota, "quota")
        )
    if burst is not None:
        fs.write(directory, "cpu.cfs_burst_us", str(burst), f"{FIELD}.burst")
    if idle is not None:
        fs.write(directory, "cpu.idle", str(idle), f"{FIELD}.idle")


def _pair(directory: str, first: tuple[str, int, str], second: tuple[str, int, str]) -> None:
    """Write a period, then its budget; if the kernel refuses the period for the
    old budget, write the budget first and the period after (as runc does)."""
    name, period, key = first
    retry = False
    if period:
        try:
            fs.write(directory, name, str(period), f"{FIELD}.{key}")
        except (InvalidSpec, HostError) as exc:
            cause = exc.__cause__
            if not (second[1] and isinstance(cause, OSError) and cause.errno == errno.EINVAL):
                raise
            retry = True
    budget_name, budget, budget_key = second
    if budget:
        fs.write(directory, budget_name, str(budget), f"{FIELD}.{budget_key}")
    if retry:
        fs.write(directory, name, str(period), f"{FIELD}.{key}")


def stats(cpu_dir: str, cpuacct_dir: str) -> dict[str, Any]:
    usage: dict[str, Any] = {"total": 0, "percpu": [], "kernel": 0, "user": 0}
    if cpuacct_dir:
        usage["total"] = fs.read_int(cpuacct_dir, "cpuacct.usage")
        percpu = fs.read_or(cpuacct_dir, "cpuacct.usage_percpu")
        usage["percpu"] = [int(v) for v in percpu.split()]
        per_user = fs.read_or(cpuacct_dir, "cpuacct.usage_percpu_user").split()
        per_sys = fs.read_or(cpuacct_dir, "cpuacct.usage_percpu_sys").split()
        if per_user and per_sys:
            usage["percpu_user"] = [int(v) for v in per_user]
            usage["percpu_kernel"] = [int(v) for v in per_sys]
        ticks = fs.read_keyed(cpuacct_dir, "cpuacct.stat")  # in USER_HZ ticks
        ns_per_tick = 1_000_000_000 // posix.sysconf("SC_CLK_TCK")
        usage["user"] = ticks.get("user", 0) * ns_per_tick
        usage["kernel"] = ticks.get("system", 0) * ns_per_tick
    throttled = fs.read_keyed(cpu_dir, "cpu.stat") if cpu_dir else {}
    return {
        "usage": usage,
        "throttling": {
            "periods": throttled.get("nr_periods", 0),
            "throttledPeriods": throttled.get("nr_throttled", 0),
            "throttledTime": throttled.get("throttled_time", 0),
        },
    }
