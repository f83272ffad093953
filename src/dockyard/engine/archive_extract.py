"""``cp``'s writing half: a tar stream unpacked into a directory inside a root, safely.

The extraction directory is resolved in the root (openat2 RESOLVE_IN_ROOT,
links followed, as Docker extracts "to a symlink that points to a
directory"). Each entry's parent is then made or opened the same way
(linux/inroot.mkdir_all), and the entry itself is made with the ``*at``
calls on that parent, never following its last name: a symlink already in
the container, or one the archive itself made a moment before, cannot send
a write outside the root. Names that climb out of the extraction directory
(``../x``) are refused as Docker refuses them.

As Docker's untar with NoOverwriteDirNonDir: a directory never replaces a
file nor a file a directory; other existing entries are replaced. Modes and
times come from the archive; owners too with ``keep_owner`` (``cp -a``),
else files belong to whoever extracts (root).
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile

from dockyard.errors import Conflict, InvalidArgument
from dockyard.linux import inroot

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, BinaryIO

CHUNK = 1 << 20
_KINDS = {
    tarfile.CHRTYPE: stat.S_IFCHR,
    tarfile.BLKTYPE: stat.S_IFBLK,
    tarfile.FIFOTYPE: stat.S_IFIFO,
}


def clean(name: str, directory: str) -> list[str]:
    """The entry's path below the extraction directory; refused if it climbs above it."""
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidArgument(f'"{name}" is outside of "{directory}"')
            parts.pop()
        else:
            parts.append(part)
    return parts


def rebased(name: str, old: str, new: str) -> str:
    """Docker's RebaseArchiveEntries: the first path element ``old`` becomes ``new``."""
    if old == ".":
        rest = name[2:] if name.startswith("./") else ("" if name in (".", "./") else name)
        return f"{new}/{rest}" if rest else new
    if name == old or name == old + "/":
        return new + name[len(old) :]
    if name.startswith(old + "/"):
        return new + name[len(old) :]
    return name


class Extractor:
    def __init__(self, root_fd: int, directory: str, keep_owner: bool) -> None:
        self.root_fd = root_fd
        self.directory = directory
        self.keep_owner = keep_owner
        self.base = "/".join(p for p in directory.split("/") if p and p != ".")
        try:
            fd = inroot.open_in_root(root_fd, self.base)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise InvalidArgument(f"Could not find the file {directory} in container") from None
            raise
        try:
            if not inroot.is_dir(fd):
                raise InvalidArgument("extraction point is not a directory")
        finally:
            os.close(fd)
        self.dir_times: list[tuple[list[str], tarfile.TarInfo]] = []

    def _parent(self, parts: list[str]) -> int:
        return inroot.mkdir_all(self.root_fd, "/".join([self.base, *parts[:-1]]))

    def add(self, member: tarfile.TarInfo, data: IO[bytes] | None, name: str) -> None:
        parts = clean(name, self.directory)
        if not parts:  # the extraction directory itself ("./"): its mode and time
            if member.isdir():
                self.dir_times.append(([], member))
            return
        parent = self._parent(parts)
        base = parts[-1]
        try:
            self._make(parent, base, member, data, parts)
        finally:
            os.close(parent)

    def _make(
        self,
        parent: int,
        base: str,
        member: tarfile.TarInfo,
        data: IO[bytes] | None,
        parts: list[str],
    ) -> None:
        try:
            existing = os.stat(base, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        shown = "/".join(parts)
        if existing is not None:
            if stat.S_ISDIR(existing.st_mode):
                if not member.isdir():
                    raise Conflict(f"cannot overwrite directory {shown!r} with non-directory")
            elif member.isdir():
                raise Conflict(f"cannot overwrite non-directory {shown!r} with directory")
            else:
                os.unlink(base, dir_fd=parent)
        if member.isdir():
            if existing is None:
                os.mkdir(base, 0o700, dir_fd=parent)
            self.dir_times.append((parts, member))
            return
        if member.isreg():
            fd = os.open(
                base,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=parent,
            )
            try:
                left = member.size
                while left > 0 and data is not None:
                    chunk = data.read(min(CHUNK, left))
                    if not chunk:
                        raise InvalidArgument(f"the archive ends inside {member.name!r}")
                    _write_all(fd, chunk)
                    left -= len(chunk)
                if self.keep_owner:
                    os.fchown(fd, member.uid, member.gid)
                os.fchmod(fd, member.mode & 0o7777)
                os.utime(fd, ns=(_ns(member), _ns(member)))
            finally:
                os.close(fd)
            return
        if member.issym():
            os.symlink(member.linkname, base, dir_fd=parent)
        elif member.islnk():
            self._hardlink(parent, base, member)
            return
        elif member.type in _KINDS:
            device = (
                os.makedev(member.devmajor, member.devminor)
                if member.ischr() or member.isblk()
                else 0
            )
            os.mknod(base, _KINDS[member.type] | (member.mode & 0o7777), device, dir_fd=parent)
        else:
            return  # other kinds (GNU sparse/long-name bookkeeping) carry no file
        if self.keep_owner:
            os.chown(base, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        if not member.issym():
            os.chmod(base, member.mode & 0o7777, dir_fd=parent)
        os.utime(base, ns=(_ns(member), _ns(member)), dir_fd=parent, follow_symlinks=False)

    def _hardlink(self, parent: int, base: str, member: tarfile.TarInfo) -> None:
        target = clean(self.rename(member.linkname), self.directory)
        if not target:
            raise InvalidArgument(f"{member.name!r}: a hardlink to the extraction directory")
        source_parent = inroot.open_in_root(self.root_fd, "/".join([self.base, *target[:-1]]))
        try:
            os.link(target[-1], base, src_dir_fd=source_parent, dst_dir_fd=parent,
                    follow_symlinks=False)  # fmt: skip
        finally:
            os.close(source_parent)

    def rename(self, name: str) -> str:
        return name

    def finish(self) -> None:
        """Directories' modes and times last (deepest first), as entries inside them
        changed their times."""
        for parts, member in reversed(self.dir_times):
            fd = inroot.open_in_root(
                self.root_fd, "/".join([self.base, *parts]), os.O_RDONLY | os.O_DIRECTORY
            )
            try:
                if self.keep_owner:
                    os.fchown(fd, member.uid, member.gid)
                os.fchmod(fd, member.mode & 0o7777)
                os.utime(fd, ns=(_ns(member), _ns(member)))
            finally:
                os.close(fd)


def _ns(member: tarfile.TarInfo) -> int:
    return int(float(member.mtime) * 1_000_000_000)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def extract(
    stream: BinaryIO,
    root_fd: int,
    directory: str,
    keep_owner: bool = False,
    rebase: tuple[str, str] | None = None,
) -> None:
    """Unpack the tar ``stream`` into ``directory`` of the root; ``rebase`` renames the
    entries' first path element (old, new)."""
    extractor = Extractor(root_fd, directory, keep_owner)
    if rebase is not None:
        old, new = rebase
        extractor.rename = lambda name: rebased(name, old, new)  # type: ignore[method-assign]
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isreg() else None
                extractor.add(member, data, extractor.rename(member.name))
    except tarfile.TarError as exc:
        raise InvalidArgument(f"the archive is not a valid tar stream: {exc}") from exc
    extractor.finish()
