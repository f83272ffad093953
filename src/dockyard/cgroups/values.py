"""Reading ``linux.resources`` from config.json's raw dict, checking each value's type.

Errors name the field by its JSON path, e.g. ``linux.resources.memory.limit``.
``bool`` is not an integer here, although Python says it is.
"""

from __future__ import annotations

from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PREFIX = "linux.resources"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1


def section(resources: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = resources.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidSpec(f"{PREFIX}.{key}", "must be an object")
    return value


def items(resources: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = resources.get(key)
    if value is None:
        return []
    field = f"{PREFIX}.{key}"
    if not isinstance(value, list):
        raise InvalidSpec(field, "must be an array")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidSpec(f"{field}[{i}]", "must be an object")
    return value


def integer(
    obj: dict[str, Any], key: str, field: str, low: int = INT64_MIN, high: int = INT64_MAX
) -> int | None:
    """``obj[key]`` as an int in [low, high], or None when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpec(f"{field}.{key}", f"must be an integer, not {value!r}")
    if not low <= value <= high:
        raise InvalidSpec(f"{field}.{key}", f"{value} is out of range [{low}, {high}]")
    return value


def unsigned(obj: dict[str, Any], key: str, field: str, high: int = UINT64_MAX) -> int | None:
    return integer(obj, key, field, 0, high)


def limit(obj: dict[str, Any], key: str, field: str) -> int | None:
    """A limit where -1 means none and 0 means unset (runc's reading of the spec)."""
    value = integer(obj, key, field)
    if value is not None and value < -1:
        raise InvalidSpec(f"{field}.{key}", f"{value} is negative (use -1 for no limit)")
    return value


def string(obj: dict[str, Any], key: str, field: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSpec(f"{field}.{key}", f"must be a string, not {value!r}")
    return value


def boolean(obj: dict[str, Any], key: str, field: str) -> bool | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidSpec(f"{field}.{key}", f"must be true or false, not {value!r}")
    return value


def device_numbers(obj: dict[str, Any], field: str) -> str:
    """The "major:minor" of a block device entry (weightDevice, throttle*)."""
    major = integer(obj, "major", field, 0, 2**32 - 1)
    minor = integer(obj, "minor", field, 0, 2**32 - 1)
    if major is None or minor is None:
        raise InvalidSpec(field, "needs both major and minor")
    return f"{major}:{minor}"


def cpu_list(obj: dict[str, Any], key: str, field: str) -> str | None:
    """A cpuset list such as "0-3,6"; None when absent or empty."""
    value = string(obj, key, field)
    if not value:
        return None
    if not all(c in "0123456789,-" for c in value):
        raise InvalidSpec(f"{field}.{key}", f"{value!r} is not a list like 0-3,6")
    return value


def page_size(value: object, field: str) -> str:
    """A huge page size as the kernel names it in file names: "2MB", "1GB", "64KB"."""
    if (
        not isinstance(value, str)
        or len(value) < 3
        or value[-2:] not in ("KB", "MB", "GB")
        or not value[:-2].isdigit()
        or not value[:-2].isascii()
    ):
        raise InvalidSpec(field, f"page size {value!r} is not of the form 2MB, 1GB, 64KB")
    return value


def hugepage_limits(limits: list[dict[str, Any]], field: str) -> list[tuple[str, int, str]]:
    """(page size, limit, field path) of each linux.resources.hugepageLimits entry, checked."""
    checked = []
    for i, item in enumerate(limits):
        where = f"{field}[{i}]"
        size = page_size(item.get("pageSize"), f"{where}.pageSize")
        limit = unsigned(item, "limit", where)
        if limit is None:
            raise InvalidSpec(f"{where}.limit", "is required")
        checked.append((size, limit, where))
    return checked
