"""``linux.resources.unified``: v2 files written as given, after everything else."""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

FIELD = f"{values.PREFIX}.unified"


def set(directory: str, unified: dict[str, Any], available: Collection[str]) -> None:
    for key, value in unified.items():
        where = f"{FIELD}.{key}"
        if not key or "/" in key or "\0" in key or key in (".", ".."):
            raise InvalidSpec(where, "must be a plain cgroup file name such as memory.high")
        if not isinstance(value, str):
            raise InvalidSpec(where, f"must be a string, not {value!r}")
        if not fs.exists(directory, key):
            controller, dot, _ = key.partition(".")
            if not dot:
                raise InvalidSpec(where, "must be a file name of the form CONTROLLER.KNOB")
            if controller != "cgroup" and controller not in available:
                raise Unsupported(f"{where}: the {controller} controller is not available here")
            raise Unsupported(f"{where}: this kernel has no cgroup file {key}")
        for line in value.split("\n") if value else [""]:
            # Multi-line values (io.max for two devices) go one line per write.
            fs.write(directory, key, line, where)
