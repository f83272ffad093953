"""v2 memory controller: memory.max, memory.swap.max, memory.low.

OCI's swap is memory+swap (a v1 notion); v2's memory.swap.max is swap alone,
so it gets ``swap - limit`` (runc's conversion). swappiness and
disableOOMKiller have no v2 file and are ignored, as runc and crun do.
"""

from __future__ import annotations

import errno

from dockyard.cgroups import fs, values
from dockyard.errors import HostError, InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.memory"


def swap_max(swap: int, limit: int) -> int:
    """memory.swap.max for OCI ``swap`` (memory+swap) and ``limit``: -1 = max, 0 = unset."""
    if limit == -1 and swap == 0:
        return -1  # unlimited memory without a swap value: unlimited swap too
    if swap in (-1, 0):
        return swap
    if limit in (0, -1):
        raise InvalidSpec(f"{FIELD}.swap", "a swap limit needs a memory limit")
    if swap < limit:
        raise InvalidSpec(
            f"{FIELD}.swap", f"{swap} is below the limit {limit} (swap counts memory+swap)"
        )
    return swap - limit


def _text(value: int) -> str:
    return "max" if value == -1 else str(value)


def set(directory: str, memory: dict[str, Any]) -> None:
    limit = values.limit(memory, "limit", FIELD) or 0
    swap = values.limit(memory, "swap", FIELD) or 0
    reservation = values.limit(memory, "reservation", FIELD) or 0
    values.integer(memory, "swappiness", FIELD, -1, values.UINT64_MAX)
    values.boolean(memory, "disableOOMKiller", FIELD)
    swap_value = swap_max(swap, limit)
    if swap_value or swap > 0:  # swap == limit: write 0, i.e. no swap at all
        if directory and swap_value in (-1, 0) and not fs.exists(directory, "memory.swap.max"):
            pass  # no swap accounting on this host: "max" and 0 hold anyway
        else:
            fs.write(directory, "memory.swap.max", _text(swap_value), f"{FIELD}.swap")
    if limit:
        try:
            fs.write(directory, "memory.max", _text(limit), f"{FIELD}.limit")
        except HostError as exc:
            cause = exc.__cause__
            if isinstance(cause, OSError) and cause.errno == errno.EBUSY:
                usage = fs.read_int(directory, "memory.current")
                raise HostError(
                    f"{FIELD}.limit: cannot set the limit to {limit} bytes, "
                    f"the cgroup uses {usage} now"
                ) from exc
            raise
    if reservation:
        fs.write(directory, "memory.low", _text(reservation), f"{FIELD}.reservation")


def stats(directory: str) -> dict[str, Any]:
    raw = fs.read_keyed(directory, "memory.stat")
    events = fs.read_keyed(directory, "memory.events")
    usage = fs.read_int(directory, "memory.current")
    limit = fs.read_int(directory, "memory.max")
    swap_usage = fs.read_int(directory, "memory.swap.current")
    swap_limit = fs.read_int(directory, "memory.swap.max")
    # Report swap as v1 did (memory+swap), so figures compare across hosts.
    if swap_limit != fs.MAX_UINT64 and limit != fs.MAX_UINT64:
        swap_limit += limit
    else:
        swap_limit = fs.MAX_UINT64
    return {
        "cache": raw.get("file", 0),
        "usage": {
            "usage": usage,
            "max": fs.read_int(directory, "memory.peak"),
            "limit": limit,
            "failcnt": events.get("max", 0),
        },
        "swap": {
            "usage": usage + swap_usage,
            "max": 0,
            "limit": swap_limit,
            "failcnt": fs.read_keyed(directory, "memory.swap.events").get("max", 0),
        },
        "raw": raw,
    }
