"""v2 cpuset controller: cpuset.cpus and cpuset.mems."""

from __future__ import annotations

from dockyard.cgroups import fs, values

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
