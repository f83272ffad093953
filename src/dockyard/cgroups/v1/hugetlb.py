"""v1 hugetlb controller: hugetlb.<size>.limit_in_bytes."""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.hugepageLimits"


def set(directory: str, limits: list[dict[str, Any]]) -> None:
    for size, limit, where in values.hugepage_limits(limits, FIELD):
        if directory and not fs.exists(directory, f"hugetlb.{size}.limit_in_bytes"):
            raise InvalidSpec(f"{where}.pageSize", f"this host has no {size} huge pages")
        fs.write(directory, f"hugetlb.{size}.limit_in_bytes", str(limit), f"{where}.limit")
        if fs.exists(directory, f"hugetlb.{size}.rsvd.limit_in_bytes"):
            fs.write(directory, f"hugetlb.{size}.rsvd.limit_in_bytes", str(limit), f"{where}.limit")


def stats(directory: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not directory:
        return out
    import posix

    for name in posix.listdir(directory):
        if (
            name.startswith("hugetlb.")
            and name.endswith(".usage_in_bytes")
            and name.count(".") == 2
        ):
            size = name.split(".")[1]
            out[size] = {
                "usage": fs.read_int(directory, name),
                "max": fs.read_int(directory, f"hugetlb.{size}.max_usage_in_bytes"),
                "failcnt": fs.read_int(directory, f"hugetlb.{size}.failcnt"),
            }
    return out
