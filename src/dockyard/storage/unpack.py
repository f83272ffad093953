"""Apply a layer tarball to an empty directory, safely, in overlayfs's format.

Every entry is written relative to a descriptor of the layer directory: its
parent is opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no
path can leave the directory, and the entry itself is made with the ``*at``
calls on that parent without following a final symlink. A hostile layer is
refused as soon as an entry shows it (`HostileLayer` names the entry and the
problem); the caller throws the half-written directory away.

Whiteouts become overlayfs's: ``dir/.wh.name`` a 0:0 character device
``dir/name``; ``dir/.wh..wh..opq`` the ``trusted.overlay.opaque=y`` xattr on
``dir``. Ownership, modes, mtimes, xattrs, hardlinks, symlinks and device
nodes are kept as the OCI layer spec asks.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from dockyard.errors import InvalidArgument
from dockyard.linux import libc

from .compression import Readable
from .store import OPAQUE_XATTR
from .tarstream import HostileLayer, LayerStream

T = TypeVar("T")

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
AUFS_META = ".wh..wh."
_RESOLVE = libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS | libc.RESOLVE_NO_MAGICLINKS
_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
__all__ = [
    "OPAQUE_XATTR",
    "RATIO_VARIABLE",
    "HostileLayer",
    "Limits",
    "UnpackStats",
    "apply_layer",
    "clean_name",
    "whiteout_target",
]


RATIO_VARIABLE = "DOCKYARD_MAX_LAYER_RATIO"


@dataclass
class Limits:
    """What one layer may hold. ``max_ratio``: a layer may unpack to at most this many
    times its compressed size (or ``ratio_floor`` bytes, if more); 0 for no limit. Real
    layers unpack to 2 to 10 times their size; a gzip bomb to 1000 times."""

    max_entries: int = 2_000_000
    max_bytes: int = 256 << 30  # unpacked, in total
    max_entry_bytes: int = 64 << 30
    max_path: int = 4096
    max_ratio: float = 100.0
    ratio_floor: int = 64 << 20

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, with the ratio from $DOCKYARD_MAX_LAYER_RATIO when it is set."""
        text = (os.environ if environ is None else environ).get(RATIO_VARIABLE, "").strip()
        if not text:
            return cls()
        try:
            ratio = float(text)
        except ValueError:
            ratio = -1.0
        if not ratio >= 0 or ratio == float("inf"):  # also refuses NaN
            raise InvalidArgument(
                f"{RATIO_VARIABLE}={text!r}: give a number of times (0: no limit)"
            )
        return cls(max_ratio=ratio)

    def unpacked_limit(self, compressed_size: int) -> int | None:
        """How many bytes a layer of ``compressed_size`` may unpack to; None: no limit."""
        if self.max_ratio == 0:
            return None
        return max(int(compressed_size * self.max_ratio), self.ratio_floor)


@dataclass
class UnpackStats:
    entries: int = 0
    bytes: int = 0
    whiteouts: list[str] = field(default_factory=list)
    root: list[int] = field(default_factory=list)  # [mode, uid, gid] of a "./" entry


def clean_name(name: str) -> str:
    """The entry's path relative to the layer root; raises on absolute paths and ``..``."""
    if name.startswith("/"):
        raise HostileLayer(name, "absolute path")
    parts = [p for p in name.split("/") if p and p != "."]
    if ".." in parts:
        raise HostileLayer(name, "'..' in the path")
    if "\0" in name:
        raise HostileLayer(name, "NUL in the path")
    return "/".join(parts)


def whiteout_target(path: str) -> tuple[str, str] | None:
    """For a whiteout entry, (parent dir, hidden name or OPAQUE_MARKER); else None."""
    parent, _, base = path.rpartition("/")
    if not base.startswith(WHITEOUT_PREFIX):
        return None
    if base == OPAQUE_MARKER:
        return parent, OPAQUE_MARKER
    if base.startswith(AUFS_META):
        return parent, AUFS_META  # aufs bookkeeping (.wh..wh.plnk): skipped, as Docker does
    hidden = base[len(WHITEOUT_PREFIX) :]
    if hidden in ("", ".", ".."):
        raise HostileLayer(path, "whiteout of an invalid name")
    return parent, hidden


class _Applier:
    def __init__(self, stream: LayerStream, root: str, limits: Limits, same_owner: bool) -> None:
        self.stream = stream
        self.root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.limits = limits
        self.same_owner = same_owner
        self.dirs: dict[str, int] = {"": self.root_fd}
        self.dir_times: list[tuple[str, int]] = []
        self.stats = UnpackStats()

    def close(self) -> None:
        for path, fd in self.dirs.items():
            if path:
                os.close(fd)
        os.close(self.root_fd)

    # ------------------------------------------------------------ resolution

    def parent_fd(self, parent: str, entry: str) -> int:
        """An O_PATH fd of ``parent`` inside the layer, made (0755) if missing."""
        fd = self.dirs.get(parent)
        if fd is not None:
            return fd
        try:
            fd = libc.openat2(self.root_fd, parent, _DIR_FLAGS, 0, _RESOLVE)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                grand, _, base = parent.rpartition("/")
                gfd = self.parent_fd(grand, entry)
                try:
                    os.mkdir(base, 0o755, dir_fd=gfd)
                    # 0755 whatever the caller's umask: a directory the layer does not
                    # list must still be open to the container's users
                    os.chmod(base, 0o755, dir_fd=gfd)
                except FileExistsError:
                    pass
                return self.parent_fd(parent, entry)
            if exc.errno in (errno.ELOOP, errno.EXDEV):
                raise HostileLayer(entry, f"its directory {parent!r} is a symlink") from exc
            if exc.errno == errno.ENOTDIR:
                raise HostileLayer(entry, f"{parent!r} is not a directory") from exc
            raise
        self.dirs[parent] = fd
        return fd

    def forget(self, path: str) -> None:
        """Drop cached fds of ``path`` and below: it is being replaced."""
        for key in [k for k in self.dirs if k == path or k.startswith(path + "/")]:
            if key:
                os.close(self.dirs.pop(key))

    def clear(self, dfd: int, name: str, path: str, keep_dir: bool) -> bool:
        """Remove whatever is at ``name``; a directory survives if ``keep_dir``. True if kept."""
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            self.forget(path)
            _remove_tree(dfd, name)
        else:
            os.unlink(name, dir_fd=dfd)
        return False

    # ------------------------------------------------------------ entries

    def apply(self, member: tarfile.TarInfo) -> None:
        limits = self.limits
        self.stats.entries += 1
        if self.stats.entries > limits.max_entries:
            raise HostileLayer(member.name, f"more than {limits.max_entries} entries")
        if len(member.name) > limits.max_path or len(member.linkname) > limits.max_path:
            raise HostileLayer(member.name[:200], f"path longer than {limits.max_path}")
        if member.size < 0:
            raise HostileLayer(member.name, f"negative size {member.size}")
        if member.size > limits.max_entry_bytes:
            raise HostileLayer(member.name, f"{member.size} bytes is more than allowed")
        # Docker's size of a layer: its files' bytes, a symlink's being its target's length
        self.stats.bytes += (
            member.size if member.isreg() else len(member.linkname) if member.issym() else 0
        )
        if self.stats.bytes > limits.max_bytes:
            raise HostileLayer(member.name, f"the layer unpacks to more than {limits.max_bytes}")
        if member.sparse is not None or member.type == tarfile.GNUTYPE_SPARSE:
            # Docker and Podman refuse GNU's sparse type too ("unhandled tar header
            # type"); written out, its holes would be zeros: 10 GB from a 10 KB layer.
            raise HostileLayer(
                member.name,
                f"a sparse file of {member.size} bytes; layers cannot hold sparse files "
                "(make the archive without tar's --sparse)",
            )
        path = clean_name(member.name)
        if not path:
            if member.isdir():
                self.dir_times.append(("", int(member.mtime)))
                self.set_attrs(self.root_fd, ".", member, is_dir=True)
                st = os.fstat(self.root_fd)
                self.stats.root = [stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid]
            return
        parent, _, name = path.rpartition("/")
        whiteout = whiteout_target(path)
        if whiteout is not None:
            self.whiteout(path, *whiteout)
            return
        dfd = self.parent_fd(parent, path)
        # The layer directory starts empty: make each entry at once and clear the
        # way only when something is already there (a later entry replaces it).
        if member.isdir():
            try:
                os.mkdir(name, 0o700, dir_fd=dfd)
            except FileExistsError:
                if not self.clear(dfd, name, path, keep_dir=True):
                    os.mkdir(name, 0o700, dir_fd=dfd)
            self.set_attrs(dfd, name, member, is_dir=True)
            self.dir_times.append((path, int(member.mtime)))
            return
        if member.isreg():
            self.write_file(member, dfd, name, path)
            return
        if member.issym():
            self.fresh(lambda: os.symlink(member.linkname, name, dir_fd=dfd), dfd, name, path)
            self.set_attrs(dfd, name, member, is_dir=False)
            return
        if member.islnk():
            self.clear(dfd, name, path, keep_dir=False)  # first: the target is checked
            self.hardlink(member, dfd, name, path)
            return  # a hardlink shares its target's attributes
        elif member.ischr() or member.isblk() or member.isfifo():
            kind = (
                stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
            )
            device = os.makedev(member.devmajor, member.devminor) if not member.isfifo() else 0
            mode = kind | (member.mode & 0o7777)
            self.fresh(lambda: os.mknod(name, mode, device, dir_fd=dfd), dfd, name, path)
        else:
            raise HostileLayer(path, f"unsupported entry type {member.type!r}")
        self.set_attrs(dfd, name, member, is_dir=False)

    def fresh(self, create: Callable[[], T], dfd: int, name: str, path: str) -> T:
        """Make a non-directory entry at once; if something is in the way (a
        later entry replaces an earlier one), clear it and make it again."""
        try:
            return create()
        except FileExistsError:
            self.clear(dfd, name, path, keep_dir=False)
            return create()

    def write_file(self, member: tarfile.TarInfo, dfd: int, name: str, path: str) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = self.fresh(lambda: os.open(name, flags, 0o600, dir_fd=dfd), dfd, name, path)
        try:
            self.stream.copy_to(fd, member.size, member.name)
            # chown, then chmod, then xattrs: a chown clears the setuid bits and the
            # file capabilities (security.capability), so both must come after it.
            if self.same_owner:
                os.fchown(fd, member.uid, member.gid)
            os.fchmod(fd, member.mode & 0o7777)
            self._xattrs(fd, member)
            os.utime(fd, ns=(int(member.mtime * 1e9),) * 2)
        finally:
            os.close(fd)

    def hardlink(self, member: tarfile.TarInfo, dfd: int, name: str, path: str) -> None:
        target = clean_name(member.linkname)
        if not target:
            raise HostileLayer(path, "hardlink to the layer root")
        tparent, _, tname = target.rpartition("/")
        tfd = self.parent_fd(tparent, path)
        try:
            st = os.stat(tname, dir_fd=tfd, follow_symlinks=False)
        except FileNotFoundError:
            raise HostileLayer(path, f"hardlink to {target!r}, which is not in the layer") from None
        if stat.S_ISDIR(st.st_mode):
            raise HostileLayer(path, f"hardlink to the directory {target!r}")
        os.link(tname, name, src_dir_fd=tfd, dst_dir_fd=dfd, follow_symlinks=False)

    def whiteout(self, path: str, parent: str, hidden: str) -> None:
        if hidden == AUFS_META:
            return
        dfd = self.parent_fd(parent, path)
        self.stats.whiteouts.append(path)
        if hidden == OPAQUE_MARKER:
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dfd)
            try:
                os.setxattr(fd, OPAQUE_XATTR, b"y")
            finally:
                os.close(fd)
            return
        child = f"{parent}/{hidden}" if parent else hidden
        self.clear(dfd, hidden, child, keep_dir=False)
        os.mknod(hidden, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=dfd)

    def set_attrs(self, dfd: int, name: str, member: tarfile.TarInfo, is_dir: bool) -> None:
        if is_dir or not member.issym():
            fd = os.open(
                name,
                os.O_RDONLY
                | os.O_NOFOLLOW
                | os.O_CLOEXEC
                | os.O_NONBLOCK
                | (os.O_DIRECTORY if is_dir else os.O_PATH),
                dir_fd=dfd,
            )
            try:
                if self.same_owner:  # chown, chmod, xattrs: see write_file
                    os.chown(name, member.uid, member.gid, dir_fd=dfd, follow_symlinks=False)
                os.chmod(f"/proc/self/fd/{fd}", member.mode & 0o7777)
                # an O_PATH fd takes no xattr calls; its /proc link does
                self._xattrs(fd if is_dir else f"/proc/self/fd/{fd}", member)
            finally:
                os.close(fd)
        elif self.same_owner:
            os.chown(name, member.uid, member.gid, dir_fd=dfd, follow_symlinks=False)
        if not is_dir:
            os.utime(name, ns=(int(member.mtime * 1e9),) * 2, dir_fd=dfd, follow_symlinks=False)

    def _xattrs(self, fd: int | str, member: tarfile.TarInfo) -> None:
        for key, value in member.pax_headers.items():
            prefix = next((p for p in _XATTR_PREFIXES if key.startswith(p)), None)
            if prefix is None:
                continue
            attr = key[len(prefix) :]
            if attr.startswith("trusted.overlay."):
                raise HostileLayer(member.name, f"sets the overlayfs xattr {attr}")
            raw = value.encode("utf-8", "surrogateescape")
            try:
                os.setxattr(fd, attr, raw)
            except OSError as exc:
                if exc.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise

    def finish(self) -> None:
        # Directory mtimes last (deepest first): writing inside a directory changes its mtime.
        for path, mtime in sorted(self.dir_times, key=lambda item: -item[0].count("/")):
            try:
                os.utime(
                    path or ".", ns=(mtime * 10**9,) * 2, dir_fd=self.root_fd, follow_symlinks=False
                )
            except FileNotFoundError:
                pass  # removed by a later entry


def _remove_tree(dfd: int, name: str) -> None:
    """rm -rf of ``name`` under ``dfd`` without following symlinks."""
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
    try:
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                _remove_tree(fd, entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=dfd)


@contextmanager
def _bad_tar() -> Iterator[None]:
    """tarfile's complaints about a header as one error. Some malformed headers (a
    sparse map cut short, a bad number) raise ValueError deep inside it."""
    try:
        yield
    except (tarfile.TarError, ValueError) as exc:
        raise InvalidArgument(f"the layer is not a valid tar archive: {exc}") from exc


def apply_layer(
    stream: Readable, dest: str, limits: Limits | None = None, same_owner: bool | None = None
) -> UnpackStats:
    """Unpack the (uncompressed) tar ``stream`` into the directory ``dest``."""
    layer = LayerStream(stream)
    applier = _Applier(
        layer, dest, limits or Limits(), os.geteuid() == 0 if same_owner is None else same_owner
    )
    try:
        with _bad_tar(), tarfile.TarFile(fileobj=layer) as tar:  # type: ignore[arg-type]
            while True:
                with _bad_tar():
                    member = tar.next()
                if member is None:
                    break
                tar.members.clear()  # type: ignore[attr-defined]  # else it keeps them all
                applier.apply(member)
        applier.finish()
    finally:
        applier.close()
    return applier.stats
