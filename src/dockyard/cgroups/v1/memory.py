"""v1 memory controller: memory.limit_in_bytes, memory.memsw.limit_in_bytes and friends."""

from __future__ import annotations

import errno

from dockyard.cgroups import fs, values
from dockyard.errors import HostError, InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.memory"
LIMIT = "memory.limit_in_bytes"
SWAP = "memory.memsw.limit_in_bytes"


def set(directory: str, memory: dict[str, Any]) -> None:
    limit = values.limit(memory, "limit", FIELD) or 0
    swap = values.limit(memory, "swap", FIELD) or 0
    reservation = values.limit(memory, "reservation", FIELD) or 0
    swappiness = values.integer(memory, "swappiness", FIELD, -1, values.UINT64_MAX)
    disable_oom_killer = values.boolean(memory, "disableOOMKiller", FIELD)
    # kernel and kernelTCP are deprecated and ignored, as runc does.
    if limit == -1 and swap == 0 and directory and fs.exists(directory, SWAP):
        swap = -1  # "no limit" covers swap too unless swap is given
    if limit and swap:
        # The kernel insists on limit <= memsw limit at every moment, so the
        # order of the two writes depends on where the values move.
        current = fs.read_int(directory, LIMIT) if directory else 0
        if swap == -1 or current < swap:
            _write(directory, SWAP, swap, "swap")
            _write(directory, LIMIT, limit, "limit")
        else:
            _write(directory, LIMIT, limit, "limit")
            _write(directory, SWAP, swap, "swap")
    else:
        if limit:
            _write(directory, LIMIT, limit, "limit")
        if swap:
            _write(directory, SWAP, swap, "swap")
    if reservation:
        _write(directory, "memory.soft_limit_in_bytes", reservation, "reservation")
    if disable_oom_killer:
        fs.write(directory, "memory.oom_control", "1", f"{FIELD}.disableOOMKiller")
    if swappiness is not None and swappiness != -1:
        if swappiness > 100:
            raise InvalidSpec(f"{FIELD}.swappiness", f"{swappiness} is out of range (0 to 100)")
        fs.write(directory, "memory.swappiness", str(swappiness), f"{FIELD}.swappiness")


def _write(directory: str, name: str, value: int, key: str) -> None:
    field = f"{FIELD}.{key}"
    try:
        fs.write(directory, name, str(value), field)
    except HostError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError) and cause.errno == errno.EBUSY:
            usage = fs.read_int(directory, "memory.usage_in_bytes")
            raise HostError(
                f"{field}: cannot set the limit to {value} bytes, the cgroup uses {usage} now"
            ) from exc
        raise


def _entry(directory: str, prefix: str) -> dict[str, int]:
    return {
        "usage": fs.read_int(directory, f"{prefix}.usage_in_bytes"),
        "max": fs.read_int(directory, f"{prefix}.max_usage_in_bytes"),
        "limit": fs.read_int(directory, f"{prefix}.limit_in_bytes"),
        "failcnt": fs.read_int(directory, f"{prefix}.failcnt"),
    }


def stats(directory: str) -> dict[str, Any]:
    if not directory:
        return {}
    raw = fs.read_keyed(directory, "memory.stat")
    return {
        "cache": raw.get("total_cache", raw.get("cache", 0)),
        "usage": _entry(directory, "memory"),
        "swap": _entry(directory, "memory.memsw"),
        "kernel": _entry(directory, "memory.kmem"),
        "kernelTCP": _entry(directory, "memory.kmem.tcp"),
        "raw": raw,
    }
