"""``cp``'s reading half: a path inside a root, stat'ed and written as a tar stream.

Every path is resolved with openat2(RESOLVE_IN_ROOT) against a descriptor of
the root (a container's filesystem, or the host's ``/``): a symlink in the
container, absolute or full of ``..``, resolves inside it, never on the host.
As Docker's archive API does, the directories of a path are followed and its
last element is not (a symlink is copied as a symlink), unless the path ends
in ``/`` or ``/.``. A tree is walked by descriptors opened with ``O_NOFOLLOW``
(storage/treewalk.py), so a container that swaps a directory for a symlink
while we read cannot send the walk outside.

Entries are named as Docker names them: the source's base name (or the
``rebase`` name the caller gives) and the paths below it; ``/.`` gives
``./`` and the paths below it. Hardlinked files become hardlink entries.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile

from dockyard.engine.record import record
from dockyard.errors import InvalidArgument, NotFound
from dockyard.linux import libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS

# Go's os.FileMode type bits, which Docker's path stat carries
GO_DIR = 1 << 31
GO_SYMLINK = 1 << 27
GO_DEVICE = 1 << 26
GO_PIPE = 1 << 25
GO_SOCKET = 1 << 24
GO_SETUID = 1 << 23
GO_SETGID = 1 << 22
GO_CHARDEV = 1 << 21
GO_STICKY = 1 << 20


@record
class PathStat:
    """Docker's ContainerPathStat: what ``HEAD /containers/ID/archive`` reports."""

    name: str
    size: int
    mode: int  # Go's os.FileMode: permission bits and type bits
    mtime: str
    link_target: str = ""  # a symlink's target, resolved in the root, absolute

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & GO_DIR)

    @property
    def is_symlink(self) -> bool:
        return bool(self.mode & GO_SYMLINK)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "mode": self.mode,
            "mtime": self.mtime,
            "linkTarget": self.link_target,
        }


def go_mode(st: os.stat_result) -> int:
    mode = stat.S_IMODE(st.st_mode) & 0o777
    kind = stat.S_IFMT(st.st_mode)
    mode |= {
        stat.S_IFDIR: GO_DIR,
        stat.S_IFLNK: GO_SYMLINK,
        stat.S_IFBLK: GO_DEVICE,
        stat.S_IFCHR: GO_DEVICE | GO_CHARDEV,
        stat.S_IFIFO: GO_PIPE,
        stat.S_IFSOCK: GO_SOCKET,
    }.get(kind, 0)
    if st.st_mode & stat.S_ISUID:
        mode |= GO_SETUID
    if st.st_mode & stat.S_ISGID:
        mode |= GO_SETGID
    if st.st_mode & stat.S_ISVTX:
        mode |= GO_STICKY
    return mode


def split(path: str) -> tuple[str, str]:
    """Docker's SplitPathDirEntry on an absolute path: ("/a", "b") for "/a/b" and "/a/b/",
    ("/a/b", ".") for "/a/b/."."""
    parts = [p for p in path.split("/") if p and p != "."]
    if path.endswith("/.") or path == ".":
        return "/" + "/".join(parts), "."
    if not parts:
        return "/", "."
    return "/" + "/".join(parts[:-1]), parts[-1]


def open_in(root_fd: int, path: str, flags: int = os.O_PATH) -> int:
    rel = "/".join(p for p in path.split("/") if p) or "."
    return libc.openat2(root_fd, rel, flags | os.O_CLOEXEC, 0, _RESOLVE)


def _not_found(path: str) -> NotFound:
    return NotFound(f"Could not find the file {path} in container")


class Resolved:
    """A path resolved the way Docker's archive API resolves it: its directory (an
    O_PATH fd, links followed in the root) and its last name, not followed."""

    def __init__(self, root_fd: int, path: str) -> None:
        self.root_fd = root_fd
        self.path = "/" + path.lstrip("/")
        follow_all = path.endswith("/") or path.endswith("/.")
        directory, self.name = split(self.path)
        try:
            if follow_all:
                # "dir/" and "dir/.": the directory itself, links and all
                self.dir_fd = open_in(root_fd, self.path)
                self.name = "."
            else:
                self.dir_fd = open_in(root_fd, directory, os.O_PATH | os.O_DIRECTORY)
            self.st = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise _not_found(path) from None
            raise
        if follow_all and not stat.S_ISDIR(self.st.st_mode):
            os.close(self.dir_fd)
            raise InvalidArgument(f"{path}: not a directory")

    def close(self) -> None:
        os.close(self.dir_fd)

    def __enter__(self) -> Resolved:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _mtime(st: os.stat_result) -> str:
    from dockyard.engine.clock import format_ns

    return format_ns(st.st_mtime_ns)


def entry_name(path: str) -> str:
    """Docker's name for what ``path`` names: its base name; "." for ``dir/.``; "/" for
    the root."""
    if not path.strip("/"):
        return "/"
    return split("/" + path.lstrip("/"))[1]


def stat_path(root_fd: int, path: str) -> PathStat:
    with Resolved(root_fd, path) as found:
        st = found.st
        target = _resolved_target(root_fd, found.path) if stat.S_ISLNK(st.st_mode) else ""
        return PathStat(entry_name(path), st.st_size, go_mode(st), _mtime(st), target)


def _resolved_target(root_fd: int, path: str) -> str:
    """Where a symlink leads, followed in the root, as an absolute path in the root."""
    try:
        fd = open_in(root_fd, path)
    except OSError:
        # a dangling link: its text, made absolute against its directory
        directory, name = split(path)
        with Resolved(root_fd, path) as found:
            text = os.readlink(name, dir_fd=found.dir_fd)
        return os.path.normpath(text if text.startswith("/") else f"{directory}/{text}")
    try:
        inside = os.readlink(f"/proc/self/fd/{fd}")
        top = os.readlink(f"/proc/self/fd/{root_fd}")
    finally:
        os.close(fd)
    rel = os.path.relpath(inside, top)
    return "/" if rel == "." else "/" + rel


class TarWriter:
    """Entries into a tar stream (PAX), hardlinks detected by inode."""

    def __init__(self, out: BinaryIO) -> None:
        # closed by close(): the writer lives across calls
        self.tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.links: dict[tuple[int, int], str] = {}
        self.size = 0  # bytes of file content written

    def add(self, name: str, st: os.stat_result, fd: int, parent_fd: int, base: str) -> None:
        info = tarfile.TarInfo(name)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.mtime = st.st_mtime
        kind = stat.S_IFMT(st.st_mode)
        data = None
        if kind == stat.S_IFDIR:
            info.type = tarfile.DIRTYPE
            info.name = name.rstrip("/") + "/" if name not in (".", "./") else "./"
        elif kind == stat.S_IFLNK:
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(base, dir_fd=parent_fd)
        elif kind == stat.S_IFREG:
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                info.type = tarfile.LNKTYPE
                info.linkname = self.links[key]
            else:
                if st.st_nlink > 1:
                    self.links[key] = name
                info.size = st.st_size
                data = _Exactly(fd, st.st_size)
        elif kind in (stat.S_IFCHR, stat.S_IFBLK):
            info.type = tarfile.CHRTYPE if kind == stat.S_IFCHR else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif kind == stat.S_IFIFO:
            info.type = tarfile.FIFOTYPE
        else:
            return  # sockets: Docker's archive leaves them out too
        self.tar.addfile(info, data)
        self.size += info.size

    def close(self) -> None:
        self.tar.close()


class _Exactly:
    """A file's content cut or padded to the size its header promised: a file that a
    running container changes while we read it still makes a well-formed archive."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.left = size

    def read(self, n: int = -1) -> bytes:
        want = self.left if n < 0 else min(n, self.left)
        if want <= 0:
            return b""
        chunk = os.read(self.fd, want) or b"\0" * want
        self.left -= len(chunk)
        return chunk


def write_tar(root_fd: int, path: str, out: BinaryIO, rebase: str = "") -> int:
    """The tar of ``path`` in the root (see the module's docstring); the content bytes."""
    from dockyard.storage import treewalk

    writer = TarWriter(out)
    with Resolved(root_fd, path) as found:
        top = rebase or entry_name(path)
        if top == "/":
            top = "."
        st = found.st
        fd = -1
        if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            if stat.S_ISDIR(st.st_mode):
                flags |= os.O_DIRECTORY
            fd = os.open(found.name, flags, dir_fd=found.dir_fd)
        try:
            writer.add(top, st, fd, found.dir_fd, found.name)
            if stat.S_ISDIR(st.st_mode):
                prefix = "./" if top == "." else top + "/"
                for entry in treewalk.walk(fd):
                    writer.add(prefix + entry.path, entry.st, entry.fd, entry.parent_fd, entry.name)
        finally:
            if fd >= 0:
                os.close(fd)
    writer.close()
    return writer.size
