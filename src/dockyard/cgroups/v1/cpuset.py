"""v1 cpuset controller: cpuset.cpus and cpuset.mems.

A new v1 cpuset cgroup starts with empty cpus and mems, and a task cannot
join it until both are set: ``inherit`` copies them down from the parent.
"""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.linux import fspath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.cpu"


def set(directory: str, cpu: dict[str, Any]) -> None:
    cpus = values.cpu_list(cpu, "cpus", FIELD)
    mems = values.cpu_list(cpu, "mems", FIELD)
    if cpus:
        fs.write(directory, "cpuset.cpus", cpus, f"{FIELD}.cpus")
    if mems:
        fs.write(directory, "cpuset.mems", mems, f"{FIELD}.mems")


def inherit(root: str, path: str) -> None:
    """Fill empty cpuset.cpus/mems from the parent, from ``root`` down to ``path``."""
    relative = fspath.relpath(path, root)
    if relative.startswith(".."):
        return
    parent = root
    for part in [p for p in relative.split("/") if p not in ("", ".")]:
        current = f"{parent}/{part}"
        for name, key in (("cpuset.cpus", "cpus"), ("cpuset.mems", "mems")):
            if not fs.read_or(current, name):
                fs.write(current, name, fs.read_or(parent, name), f"{FIELD}.{key}")
        parent = current
