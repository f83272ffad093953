"""Hand a seccomp listener (``linux.seccomp.listenerPath``) its notify descriptor.

A profile with SCMP_ACT_NOTIFY rules makes the kernel give the process that
installs it a listener descriptor. The init (or ``exec``'s child) only says
its number on the channel; the runtime, on the host and under no filter,
takes a copy with pidfd_getfd and sends it with the container's state to
the agent, as runc does. The init thus makes no socket calls under its
own filter, and a NOTIFY rule on any of them cannot stall it.
"""

from __future__ import annotations

import posix
import sys

from dockyard.errors import HostError
from dockyard.linux import libc as L
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.oci.seccomp import Seccomp


def hand_over(seccomp: Seccomp, pid: int, remote_fd: int, state: dict[str, Any]) -> None:
    """Send descriptor ``remote_fd`` of process ``pid`` to the listener, with
    the runtime spec's container process state (``state`` is the OCI state)."""
    try:
        pidfd = posix.pidfd_open(pid)
        try:
            notify_fd = L.pidfd_getfd(pidfd, remote_fd)
        finally:
            posix.close(pidfd)
    except OSError as exc:
        raise HostError(
            f"{seccomp.field}: unable to take the seccomp listener descriptor from "
            f"process {pid}: {exc.strerror}"
        ) from exc
    try:
        _send(seccomp, pid, notify_fd, state)
    finally:
        posix.close(notify_fd)


def _send(seccomp: Seccomp, pid: int, notify_fd: int, state: dict[str, Any]) -> None:
    import _socket

    field = f"{seccomp.field}.listenerPath"
    message = {
        "ociVersion": state.get("ociVersion", "1.2.0"),
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": seccomp.listener_metadata,
        "state": state,
    }
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        try:
            sock.connect(seccomp.listener_path)
        except OSError as exc:
            raise HostError(
                f"{field}: cannot connect to the seccomp agent at "
                f"{seccomp.listener_path}: {exc.strerror}"
            ) from exc
        rights = (_socket.SOL_SOCKET, _socket.SCM_RIGHTS, notify_fd.to_bytes(4, sys.byteorder))
        try:
            sock.sendmsg([jsonio.dumps_compact(message).encode()], [rights])
        except OSError as exc:
            raise HostError(
                f"{field}: sending the seccomp descriptor failed: {exc.strerror}"
            ) from exc
    finally:
        sock.close()
