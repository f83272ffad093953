"""Working with a running container through its cgroup: pause, resume, ps, events, update."""

from __future__ import annotations

import time

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime.state import PAUSED, RUNNING, ContainerState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from dockyard.cgroups.manager import CgroupManager


def _manager(state: ContainerState) -> CgroupManager:
    from dockyard.cgroups.manager import manager_from_paths

    if not state.cgroup_paths:
        raise Conflict(f"container {state.id} has no cgroup (it was created without one)")
    return manager_from_paths(state.cgroup_paths)


def pause(root: str, container_id: str) -> None:
    state = ContainerState.load(root, container_id)
    state.require("pause")
    _manager(state).freeze()


def resume(root: str, container_id: str) -> None:
    state = ContainerState.load(root, container_id)
    state.require("resume")
    _manager(state).thaw()


def pids(root: str, container_id: str) -> list[int]:
    """Every process of the container (its cgroup's, recursively), as host pids."""
    state = ContainerState.load(root, container_id)
    if state.status not in (RUNNING, PAUSED, "created"):
        raise Conflict(f"container {container_id} is {state.status}: it has no processes")
    return _manager(state).procs()


def stats_event(state: ContainerState) -> dict[str, Any]:
    return {"type": "stats", "id": state.id, "data": _manager(state).stats()}


def events(root: str, container_id: str, interval: float) -> Iterator[dict[str, Any]]:
    """runc's event stream: stats every ``interval``, an "oom" event per new OOM kill."""
    state = ContainerState.load(root, container_id)
    manager = _manager(state)
    ooms = manager.oom_kill_count()
    while True:
        state.status = state.current_status()
        if state.status == "stopped":
            return
        count = manager.oom_kill_count()
        if count > ooms:
            ooms = count
            yield {"type": "oom", "id": state.id}
        yield stats_event(state)
        time.sleep(interval)


def update(root: str, container_id: str, resources: dict[str, Any]) -> None:
    """Apply new limits to a live container and keep them in its state."""
    state = ContainerState.load(root, container_id)
    if state.status not in (RUNNING, PAUSED, "created"):
        raise Conflict(f"container {container_id} is {state.status}: nothing to update")
    if not isinstance(resources, dict):
        raise InvalidArgument("resources must be a JSON object")
    _manager(state).set(resources)
    linux = state.config.setdefault("linux", {})
    merged = linux.setdefault("resources", {})
    for key, value in resources.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    state.save()


def parse_size(text: str, flag: str) -> int:
    """runc's sizes: bytes, or with a k/m/g(b) suffix; -1 for unlimited."""
    value = text.strip().lower()
    if value == "-1":
        return -1
    for suffix, factor in (
        ("kb", 1 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("k", 1 << 10),
        ("m", 1 << 20),
        ("g", 1 << 30),
        ("b", 1),
    ):
        if value.endswith(suffix):
            value, scale = value[: -len(suffix)], factor
            break
    else:
        scale = 1
    try:
        return int(float(value) * scale)
    except ValueError:
        raise InvalidArgument(f"{flag}: invalid size {text!r}") from None


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


def wait_interval(text: str) -> float:
    """Go-style durations runc takes for --interval: 5s, 500ms, 1m."""
    value = text.strip()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if value.endswith(suffix):
            try:
                seconds = float(value[: -len(suffix)]) * scale
            except ValueError:
                break
            if seconds > 0:
                return seconds
    raise InvalidArgument(f"--interval: invalid duration {text!r} (e.g. 5s, 500ms)")
