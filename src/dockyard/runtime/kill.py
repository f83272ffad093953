"""``kill``: signal a container's init, or with ``--all`` every process it has."""

from __future__ import annotations

import posix

from dockyard.linux import proc
from dockyard.runtime.state import STOPPED, ContainerState


def kill(root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    state = ContainerState.load(root, container_id)
    if not all_processes:
        state.require("kill")
    elif state.status == STOPPED and not _has_new_pid_ns(state):
        pass  # processes may outlive a shared-namespace init; signal what is left
    for pid in targets(state, all_processes):
        try:
            posix.kill(pid, signal)
        except ProcessLookupError:
            pass


def _has_new_pid_ns(state: ContainerState) -> bool:
    namespaces = (state.config.get("linux") or {}).get("namespaces") or []
    return any(ns.get("type") == "pid" and not ns.get("path") for ns in namespaces)


def targets(state: ContainerState, all_processes: bool) -> list[int]:
    alive = proc.is_alive(state.pid, state.init_start_time)
    if not all_processes:
        return [state.pid] if alive else []
    if state.cgroup_paths:
        from dockyard.cgroups.manager import manager_from_paths

        try:
            return manager_from_paths(state.cgroup_paths).procs()
        except OSError:
            pass
    if not alive:
        return []
    if _has_new_pid_ns(state):
        return processes_in_pid_ns(state.pid)
    return [state.pid]


def processes_in_pid_ns(init_pid: int) -> list[int]:
    """Every process whose pid namespace is that of ``init_pid``; at least the
    init itself, whose death ends the others, when its namespace cannot be
    read (a rootless runtime may not look into a non-dumpable process)."""
    try:
        target = posix.stat(f"/proc/{init_pid}/ns/pid").st_ino
    except OSError:
        return [init_pid]
    found = []
    for entry in posix.listdir("/proc"):
        if entry.isdigit():
            try:
                if posix.stat(f"/proc/{entry}/ns/pid").st_ino == target:
                    found.append(int(entry))
            except OSError:
                continue
    return found
