"""``ps``: a container's processes, as host pids or as ``ps`` shows them."""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime.state import PAUSED, RUNNING, ContainerState


def pids(root: str, container_id: str) -> list[int]:
    """Every process of the container (its cgroup's, recursively), as host pids."""
    state = ContainerState.load(root, container_id)
    if state.status not in (RUNNING, PAUSED, "created"):
        raise Conflict(f"container {container_id} is {state.status}: it has no processes")
    return state.cgroup().procs()


def host_ps(pid_list: list[int], ps_args: list[str]) -> str:
    """``ps`` output (default ``-ef``) limited to the container's processes, as runc prints it."""
    import subprocess

    result = subprocess.run(
        ["ps", *(ps_args or ["-ef"])], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise InvalidArgument(f"ps {' '.join(ps_args)}: {result.stderr.strip()}")
    lines = result.stdout.splitlines()
    if not lines:
        return ""
    header, rows = lines[0], lines[1:]
    try:
        column = header.split().index("PID")
    except ValueError:
        raise InvalidArgument("ps output has no PID column; pass options that show it") from None
    wanted = set(pid_list)
    kept = [row for row in rows if _pid_at(row, column) in wanted]
    return "\n".join([header, *kept]) + "\n"


def _pid_at(row: str, column: int) -> int:
    fields = row.split()
    try:
        return int(fields[column])
    except (IndexError, ValueError):
        return -1
