"""The runtime verbs after ``create``: start, state, kill, delete, list."""

from __future__ import annotations

import posix

from dockyard.errors import Conflict, HostError, NotFound
from dockyard.linux import proc
from dockyard.runtime.state import (
    CREATED,
    CREATING,
    EXEC_FIFO,
    STOPPED,
    ContainerState,
    list_ids,
    remove_dir,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Warn = Callable[[str], None]


def _hooks(state: ContainerState, kind: str) -> list:  # type: ignore[type-arg]
    raw = (state.config.get("hooks") or {}).get(kind)
    if not raw:
        return []
    from dockyard.oci.runtime_spec import Hook

    return [Hook(h, f"hooks.{kind}[{i}]") for i, h in enumerate(raw)]


def start(root: str, container_id: str, warn: Warn) -> ContainerState:
    state = ContainerState.load(root, container_id)
    state.require("start")
    release(state, warn)
    if state.status == CREATED:  # not refreshed for poststart hooks
        state.status = state.current_status()
    return state


def release(state: ContainerState, warn: Warn) -> None:
    """Let a created container's init exec its program: ``start`` once the state
    is loaded and checked (``run`` has it at hand from create)."""
    from dockyard.linux import libc

    fifo_path = f"{state.dir}/{EXEC_FIFO}"
    try:
        fifo = posix.open(fifo_path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC)
    except FileNotFoundError:
        raise Conflict(f"container {state.id} has been started already") from None
    try:
        pidfd = posix.pidfd_open(state.pid)
    except ProcessLookupError:
        posix.close(fifo)
        raise HostError(f"container {state.id}: its init process is gone") from None
    try:
        events = dict(libc.poll([(fifo, libc.POLLIN | libc.POLLHUP), (pidfd, libc.POLLIN)]))
        if fifo not in events:
            raise HostError(f"container {state.id}: its init process died before start")
        posix.set_blocking(fifo, True)
        data = b""
        while chunk := posix.read(fifo, 4096):
            data += chunk
    finally:
        posix.close(fifo)
        posix.close(pidfd)
    posix.unlink(fifo_path)
    if data != b"0":
        message = data[1:] if data[:1] in (b"0", b"E") else data
        raise HostError(message.decode(errors="replace") or "container init failed at start")
    if (state.config.get("hooks") or {}).get("poststart"):
        # The status first, before anything slow: the process may be a quick one.
        state.status = state.current_status()
        from dockyard.runtime.hooks import run_hooks_warn

        run_hooks_warn("poststart", _hooks(state, "poststart"), state.oci_state(), warn)


def get_state(root: str, container_id: str) -> ContainerState:
    return ContainerState.load(root, container_id)


def kill(root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    state = ContainerState.load(root, container_id)
    if not all_processes:
        state.require("kill")
    elif state.status == STOPPED and not _has_new_pid_ns(state):
        pass  # processes may outlive a shared-namespace init; signal what is left
    for pid in _targets(state, all_processes):
        try:
            posix.kill(pid, signal)
        except ProcessLookupError:
            pass


def _has_new_pid_ns(state: ContainerState) -> bool:
    namespaces = (state.config.get("linux") or {}).get("namespaces") or []
    return any(ns.get("type") == "pid" and not ns.get("path") for ns in namespaces)


def _targets(state: ContainerState, all_processes: bool) -> list[int]:
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


def delete(root: str, container_id: str, force: bool, warn: Warn) -> None:
    try:
        state = ContainerState.load(root, container_id)
    except NotFound:
        if force:
            return  # as runc: the goal (no such container) is reached; podman relies on it
        raise
    if state.status == CREATING:
        if not force:
            raise Conflict(
                f"container {container_id} is still being created (or its create was killed); "
                "use delete -f to remove what is left"
            )
    elif not force:
        state.require("delete")
    destroy(state, warn)


def destroy(state: ContainerState, warn: Warn | None) -> None:
    """Undo a create: kill every process, run poststop hooks, remove the state.

    Used by ``delete`` and by a ``create`` that failed part-way (the spec's
    lifecycle continues at "destroy" when a create-time hook fails).
    """
    manager = None
    if state.cgroup_paths:
        from dockyard.cgroups.manager import manager_from_paths

        manager = manager_from_paths(state.cgroup_paths)
    if manager is not None:
        manager.kill_all(9)  # processes outside the init's pid namespace too
    if state.pid and proc.is_alive(state.pid, state.init_start_time):
        for pid in _targets(state, True):
            try:
                posix.kill(pid, 9)
            except ProcessLookupError:
                pass
        if not proc.wait_for_exit(state.pid, state.init_start_time, 10):
            raise HostError(f"container {state.id}: init did not exit after SIGKILL")
    if manager is not None:
        manager.destroy()
    state.status = STOPPED
    poststop = _hooks(state, "poststop") if state.pid else []
    if poststop:
        from dockyard.runtime.hooks import run_hooks_warn

        run_hooks_warn("poststop", poststop, state.oci_state(), warn or (lambda message: None))
    remove_dir(state.dir)


def list_states(root: str) -> list[ContainerState]:
    states = []
    for container_id in list_ids(root):
        try:
            states.append(ContainerState.load(root, container_id))
        except Exception:  # a directory that is not a container, or one half-deleted
            continue
    return states
