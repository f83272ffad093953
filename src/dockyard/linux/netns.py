"""Network namespaces kept by a file, as ``ip netns`` keeps them, without a process.

A namespace gets its file one of two ways: `create` makes a new one (the
calling thread unshares, binds ``/proc/thread-self/ns/net`` onto the file
and goes back to the namespace it came from), `bind` keeps a process's
(the container's init, which the runtime cloned into a new one). The file
keeps the namespace alive until `remove` unmounts it and the container's
processes are gone.
"""

from __future__ import annotations

import posix

from dockyard.linux import libc

_SELF_NET = "/proc/thread-self/ns/net"


class entered:
    """``with entered(path):`` runs the block inside the namespace at ``path``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.home = -1

    def __enter__(self) -> entered:
        self.home = posix.open(_SELF_NET, posix.O_RDONLY | posix.O_CLOEXEC)
        target = posix.open(self.path, posix.O_RDONLY | posix.O_CLOEXEC)
        try:
            libc.setns(target, libc.CLONE_NEWNET)
        except BaseException:
            posix.close(self.home)
            raise
        finally:
            posix.close(target)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            libc.setns(self.home, libc.CLONE_NEWNET)
        finally:
            posix.close(self.home)


def create(path: str) -> None:
    """A new, empty network namespace (loopback down) held by the file ``path``."""
    home = posix.open(_SELF_NET, posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        libc.unshare(libc.CLONE_NEWNET)
        try:
            _hold(_SELF_NET, path)
        finally:
            libc.setns(home, libc.CLONE_NEWNET)
    finally:
        posix.close(home)


def bind(pid: int, path: str) -> None:
    """Keep the network namespace of process ``pid`` at the new file ``path``."""
    _hold(f"/proc/{pid}/ns/net", path)


def _hold(namespace: str, path: str) -> None:
    """Bind ``namespace`` (a /proc ns link) onto ``path``, made here; nothing left on failure."""
    fd = posix.open(path, posix.O_RDONLY | posix.O_CREAT | posix.O_EXCL | posix.O_CLOEXEC, 0o444)
    posix.close(fd)
    try:
        libc.mount(namespace, path, None, libc.MS_BIND)
    except BaseException:
        try:
            posix.unlink(path)
        except OSError:
            pass
        raise


def remove(path: str) -> bool:
    """Unmount and delete ``path``; False if there was nothing there."""
    try:
        libc.umount2(path, libc.MNT_DETACH)
    except OSError as exc:
        if exc.errno not in (22, 2):  # EINVAL: not a mount point; ENOENT: no file
            raise
    try:
        posix.unlink(path)
    except FileNotFoundError:
        return False
    return True


def is_netns(path: str) -> bool:
    """True if ``path`` holds a namespace (an nsfs mount), not just an empty file:
    every namespace file lives on the one nsfs superblock, so they share a device."""
    try:
        return posix.stat(path).st_dev == posix.stat(_SELF_NET).st_dev
    except OSError:
        return False
