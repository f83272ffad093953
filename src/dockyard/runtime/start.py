"""``start``: let a created container's init exec the user's program."""

from __future__ import annotations

import posix

from dockyard.errors import Conflict, HostError
from dockyard.runtime.hooks import spec_hooks
from dockyard.runtime.state import CREATED, EXEC_FIFO, RUNNING, ContainerState, Lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.runtime.hooks import Warn


def start(root: str, container_id: str, warn: Warn) -> ContainerState:
    with Lock(root, container_id):
        state = ContainerState.load(root, container_id)
        state.require("start")
        release(state, warn)
    if state.status == CREATED:  # not refreshed for poststart hooks
        state.status = state.current_status()
    return state


def release(state: ContainerState, warn: Warn) -> None:
    """Let a created container's init exec its program: ``start`` once the state
    is loaded and checked (``run`` has it at hand from create); the caller holds
    the container's Lock."""
    from dockyard.linux import libc

    fifo_path = f"{state.dir}/{EXEC_FIFO}"
    # The pidfd before the fifo: opening the fifo lets the init exec, and a
    # quick program can exit and be reaped (by a monitor) before a pidfd_open.
    try:
        pidfd = posix.pidfd_open(state.pid)
    except ProcessLookupError:
        pidfd = -1
    try:
        fifo = posix.open(fifo_path, posix.O_RDONLY | posix.O_NONBLOCK | posix.O_CLOEXEC)
    except FileNotFoundError:
        if pidfd >= 0:
            posix.close(pidfd)
        raise Conflict(f"container {state.id} has been started already") from None
    if pidfd < 0:
        posix.close(fifo)
        raise HostError(f"container {state.id}: its init process is gone")
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
        from dockyard.runtime.hooks import run_hooks_warn

        # The moment a poststart hook stands for is "the process has started":
        # it gets status running and the pid, as crun gives it, even when a
        # quick process has already exited by the time the hook reads its stdin
        # (reading the live status here made the hook see "stopped" at random).
        hook_state = state.oci_state()
        hook_state["status"] = RUNNING
        hook_state["pid"] = state.pid
        run_hooks_warn("poststart", spec_hooks(state.config, "poststart"), hook_state, warn)
