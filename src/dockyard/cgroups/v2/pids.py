"""v2 pids controller: pids.max."""

from __future__ import annotations

from dockyard.cgroups import fs, values

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.pids"


def set(directory: str, pids: dict[str, Any]) -> None:
    limit = values.integer(pids, "limit", FIELD)
    if limit:  # 0 is "unset", a negative number "no limit" (runc)
        fs.write(directory, "pids.max", str(limit) if limit > 0 else "max", f"{FIELD}.limit")


def stats(directory: str) -> dict[str, int]:
    limit = fs.read_or(directory, "pids.max", "max")
    return {
        "current": fs.read_int(directory, "pids.current"),
        "limit": 0 if limit == "max" else fs.to_int(limit),  # 0: no limit, as runc reports
    }
