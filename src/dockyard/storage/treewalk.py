"""Walk a directory tree that someone else may be changing, never following a symlink.

A container's upper directory (or its mounted root) belongs to the
container: while we read it, a process inside may swap a directory for a
symlink to the host's ``/``. Every step here is relative to a descriptor
of the directory above it, opened with ``O_NOFOLLOW``; a name that
changed kind between the listing and the open is looked at again as what
it now is, and a name that went away is skipped.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR)
_CHANGED = (errno.ELOOP, errno.ENOTDIR, errno.ENXIO, errno.EISDIR)


@dataclass
class Entry:
    """One name in the tree. ``fd`` is open for directories and regular files (the
    walker closes it after the caller is done), else -1."""

    path: str  # relative to the walk's root, "" for the root
    name: str
    st: os.stat_result
    parent_fd: int
    fd: int = -1

    @property
    def kind(self) -> int:
        return stat.S_IFMT(self.st.st_mode)

    def xattrs(self) -> dict[str, bytes]:
        """Extended attributes, read without following a symlink."""
        target: int | str = self.fd
        if self.fd < 0:
            if self.kind == stat.S_IFLNK:
                return {}  # user xattrs are not allowed on symlinks; others are rare
            target = f"/proc/self/fd/{self.parent_fd}/{self.name}"
        follow = isinstance(target, int)  # an fd takes no flag; it is the entry itself
        found = {}
        try:
            names = os.listxattr(target, follow_symlinks=follow)
            for attr in names:
                try:
                    found[attr] = os.getxattr(target, attr, follow_symlinks=follow)
                except OSError as exc:
                    if exc.errno != errno.ENODATA:
                        raise
        except OSError as exc:
            if exc.errno not in (errno.ENOTSUP, errno.ENOENT):
                raise
        return found

    def readlink(self) -> str:
        return os.readlink(self.name, dir_fd=self.parent_fd)


def _open(parent_fd: int, name: str) -> tuple[os.stat_result, int] | None:
    """lstat and, for a directory or a regular file, open ``name``; None if it is gone."""
    for _ in range(3):  # it may change kind between the lstat and the open
        try:
            st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in _GONE:
                return None
            raise
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
            return st, -1
        try:
            fd = os.open(name, _DIR if stat.S_ISDIR(st.st_mode) else _FILE, dir_fd=parent_fd)
        except OSError as exc:
            if exc.errno in _GONE and exc.errno != errno.ENOTDIR:
                return None
            if exc.errno in _CHANGED:
                continue
            raise
        opened = os.fstat(fd)
        if stat.S_IFMT(opened.st_mode) == stat.S_IFMT(st.st_mode):
            return opened, fd
        os.close(fd)
    raise OSError(errno.EAGAIN, f"{name!r} keeps changing while it is read")


def walk(root: str | os.PathLike[str] | int) -> Iterator[Entry]:
    """Every entry under ``root`` (not ``root`` itself), parents before children,
    names sorted. An entry's ``fd`` is valid until the walk moves on. ``root`` may be
    an open directory descriptor (a mount kept readable after a lazy unmount)."""
    root_fd = os.dup(root) if isinstance(root, int) else os.open(root, _DIR)
    try:
        yield from _walk(root_fd, "")
    finally:
        os.close(root_fd)


def _walk(dir_fd: int, prefix: str) -> Iterator[Entry]:
    with os.scandir(dir_fd) as listing:
        names = sorted(entry.name for entry in listing)
    for name in names:
        found = _open(dir_fd, name)
        if found is None:
            continue
        st, fd = found
        path = f"{prefix}{name}"
        try:
            yield Entry(path, name, st, dir_fd, fd)
            if stat.S_ISDIR(st.st_mode):
                yield from _walk(fd, path + "/")
        finally:
            if fd >= 0:
                os.close(fd)


def child_names(dir_fd: int) -> list[str]:
    with os.scandir(dir_fd) as listing:
        return [entry.name for entry in listing]
