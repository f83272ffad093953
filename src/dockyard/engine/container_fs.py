"""A container's filesystem as ``cp`` sees it: a descriptor of its root, volumes included.

Docker's daemon mounts a container's root filesystem and volumes in a
mount namespace of its own for ``cp``. With no daemon, a short-lived child
process does the same: it forks, unshares its mount namespace (made private,
so nothing it mounts is seen outside), mounts the container's root (already
mounted for a running container; the snapshot is mounted afresh for a
stopped one), binds the container's volumes, bind mounts and its /etc/hosts,
/etc/hostname and /etc/resolv.conf at their places (each target resolved in
the root, never outside it), and hands an ``O_PATH`` descriptor of that root
to the caller over a socket. Paths walked from the descriptor cross the
child's mounts; when the caller is done, the child exits and its namespace
with everything in it goes. As with Docker, /proc, /sys and tmpfs mounts are
not part of the view. A stopped container is locked meanwhile, so that no
start mounts the same snapshot a second time.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager

from dockyard.errors import Conflict, HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

ETC_FILES = ("hosts", "hostname", "resolv.conf")


class View:
    """The root (an O_PATH descriptor) and whether its root filesystem is read-only."""

    def __init__(self, root_fd: int, read_only: bool) -> None:
        self.root_fd = root_fd
        self.read_only = read_only


def _bind(root_fd: int, source: str, destination: str, read_only: bool) -> None:
    from dockyard.linux import inroot, libc

    try:
        is_dir = os.path.isdir(source)
    except OSError:
        return
    make = inroot.mkdir_all if is_dir else inroot.make_file
    target = make(root_fd, destination)
    try:
        libc.mount(source, inroot.fd_path(target), None, libc.MS_BIND | libc.MS_REC)
    finally:
        os.close(target)
    if read_only:
        # the new mount's root, looked up again: the old fd names what lies under it
        mounted = inroot.open_in_root(root_fd, destination)
        try:
            flags = libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY
            libc.mount(None, inroot.fd_path(mounted), None, flags)
        finally:
            os.close(mounted)


def _build(engine: Engine, rec: ContainerRecord) -> int:
    """In the child: the private namespace, the root and its mounts; the root's fd."""
    from dockyard.engine.bundle import mount_rootfs
    from dockyard.linux import libc

    libc.unshare(libc.CLONE_NEWNS)
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    rootfs = mount_rootfs(engine.images, rec)
    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    for m in rec.mounts:
        if m.type in ("volume", "bind") and m.source:
            _bind(root_fd, m.source, m.destination, m.read_only)
    directory = engine.paths.container_dir(rec.id)
    for name in ETC_FILES:
        source = f"{directory}/{name}"
        if os.path.exists(source):
            _bind(root_fd, source, f"/etc/{name}", False)
    if rec.host.readonly_rootfs:
        flags = libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY
        libc.mount(None, rootfs, None, flags)
    return root_fd


def _child(engine: Engine, rec: ContainerRecord, sock: socket.socket) -> None:
    from dockyard.engine.locks import close_held_in_child

    status = 1
    try:
        close_held_in_child()
        root_fd = _build(engine, rec)
        socket.send_fds(sock, [b"ok"], [root_fd])
        sock.recv(1)  # until the caller is done (it closes its end)
        status = 0
    except BaseException as exc:
        try:
            sock.sendall(f"error {exc}".encode()[:4000])
        except OSError:
            pass
    finally:
        os._exit(status)


@contextmanager
def view(engine: Engine, rec: ContainerRecord) -> Iterator[View]:
    """The container's filesystem for the block's duration. It forks: open it before
    starting threads or pipes whose ends the child must not keep open."""
    from dockyard.engine.exits import current_status
    from dockyard.engine.status import Status

    lock = None
    if current_status(engine, rec) not in (Status.RUNNING, Status.PAUSED):
        lock = engine.lock(rec.id)
        lock.acquire()
    try:
        if lock is not None:
            rec = engine.containers.get(rec.id)
            if rec.status == Status.REMOVING:
                raise Conflict(f"container {rec.id} is marked for removal")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child leaves by _exit)
            ours.close()
            _child(engine, rec, theirs)
        theirs.close()
        try:
            message, fds, _, _ = socket.recv_fds(ours, 4096, 1)
            if not fds:
                raise HostError(
                    f"cannot open the filesystem of container {rec.id[:12]}: "
                    f"{message.decode(errors='replace').removeprefix('error ') or 'no answer'}"
                )
            try:
                yield View(fds[0], rec.host.readonly_rootfs)
            finally:
                os.close(fds[0])
        finally:
            ours.close()
            os.waitpid(pid, 0)
    finally:
        if lock is not None:
            lock.release()
