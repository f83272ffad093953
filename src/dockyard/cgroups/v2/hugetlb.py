"""v2 hugetlb controller: hugetlb.<size>.max (and .rsvd.max where present)."""

from __future__ import annotations

import posix

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.hugepageLimits"


def set(directory: str, limits: list[dict[str, Any]]) -> None:
    for size, limit, where in values.hugepage_limits(limits, FIELD):
        if directory and not fs.exists(directory, f"hugetlb.{size}.max"):
            raise InvalidSpec(f"{where}.pageSize", f"this host has no {size} huge pages")
        fs.write(directory, f"hugetlb.{size}.max", str(limit), f"{where}.limit")
        if fs.exists(directory, f"hugetlb.{size}.rsvd.max"):
            fs.write(directory, f"hugetlb.{size}.rsvd.max", str(limit), f"{where}.limit")


def stats(directory: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        names = posix.listdir(directory)
    except OSError:
        return out
    for name in names:
        if name.startswith("hugetlb.") and name.endswith(".current") and name.count(".") == 2:
            size = name.split(".")[1]
            out[size] = {
                "usage": fs.read_int(directory, name),
                "max": 0,
                "failcnt": fs.read_keyed(directory, f"hugetlb.{size}.events").get("max", 0),
            }
    return out
