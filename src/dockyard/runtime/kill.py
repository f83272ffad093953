"""``kill``: signal a container's init, or with ``--all`` every process it has.

Every signal goes through a pidfd opened before the process is checked
(linux/proc.py), so a pid freed and taken by another process between the
check and the signal is never hit.
"""

from __future__ import annotations

import posix

from dockyard.linux import proc
from dockyard.runtime.signals import SIGKILL
from dockyard.runtime.state import PAUSED, ContainerState


def kill(root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    """Signal 0 sends nothing: it only says whether the init is still there."""
    state = ContainerState.load(root, container_id)
    if all_processes:
        # Even a stopped container: processes may outlive a shared-namespace init.
        signal_all(state, signal)
        return
    state.require("kill")
    if not proc.send_signal(state.pid, state.init_start_time, signal):
        state.status = state.current_status()
        state.require("kill")  # it stopped meanwhile: say so as for any stopped one
    if state.status == PAUSED and signal == SIGKILL and state.cgroup_paths:
        # A frozen v1 process dies only once thawed (runc thaws for SIGKILL alone).
        state.cgroup().thaw()


def has_new_pid_ns(state: ContainerState) -> bool:
    namespaces = (state.config.get("linux") or {}).get("namespaces") or []
    return any(ns.get("type") == "pid" and not ns.get("path") for ns in namespaces)


def signal_all(state: ContainerState, signal: int) -> None:
    """Every process of the container: its cgroup's (frozen meanwhile, as runc
    does, so that none forks or exits between listing and signal), else those
    in its own pid namespace, else the init alone."""
    if state.cgroup_paths:
        try:
            state.cgroup().kill_all(signal)
            return
        except FileNotFoundError:
            pass  # the cgroup is gone: look for the processes another way
    pidfd = proc.open_pidfd(state.pid, state.init_start_time) if state.pid else None
    if pidfd is None:
        return
    try:
        if has_new_pid_ns(state):
            namespace = _pid_ns(state.pid)
            if namespace is not None:
                proc.signal_listed(lambda: processes_in_pid_ns(namespace), signal)
                return
        # A rootless runtime may not read a non-dumpable init's namespace: the
        # init alone, whose death ends the rest of its namespace.
        from dockyard.linux import libc

        libc.pidfd_send_signal(pidfd, signal)
    except ProcessLookupError:
        pass  # it exited since the check
    finally:
        posix.close(pidfd)


def _pid_ns(pid: int) -> int | None:
    try:
        return posix.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def processes_in_pid_ns(namespace: int) -> list[int]:
    """Every process whose pid namespace is the one with inode ``namespace``."""
    found = []
    for entry in posix.listdir("/proc"):
        if entry.isdigit() and _pid_ns(int(entry)) == namespace:
            found.append(int(entry))
    return found
