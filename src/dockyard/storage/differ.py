"""A container's changes: its overlay upper directory as a layer tar, or as a list.

overlayfs records a container's changes in its upper directory, in its own
format: a deleted name is a 0:0 character device, a directory whose lower
contents are hidden carries ``trusted.overlay.opaque=y``. A layer tar says
the same in the OCI format: ``.wh.NAME`` and ``DIR/.wh..wh..opq``.

- `write_layer`: the upper directory as a layer tar (``commit``), which
  `unpack.apply_layer` turns back into the same directory;
- `write_tree`: any directory (a container's mounted root) as a plain tar
  (``export``);
- `changes`: what ``docker diff`` lists: A (added), C (changed), D (deleted),
  each directory above a change listed as changed.

Owners, modes, times, xattrs (not overlayfs's own), hardlinks, symlinks,
device nodes and FIFOs are kept; sockets are left out, as Docker leaves them.
The tree is read through `treewalk`, which never follows a symlink, so a
container that swaps a directory for a link to ``/`` while we read gets its
link archived, not the host's files.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dockyard.errors import Unsupported

from .treewalk import Entry, walk
from .unpack import OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX

_OVERLAY_PREFIX = "trusted.overlay."
_REFUSED = ("trusted.overlay.metacopy", "trusted.overlay.redirect")
_CHUNK = 1 << 20


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


# ---------------------------------------------------------------- tars


class _Exactly:
    """``size`` bytes of ``fd``: zeros if the file shrank while read, cut if it grew,
    so the archive stays well formed whatever a running container does."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.left = size

    def read(self, amount: int = _CHUNK) -> bytes:
        amount = min(amount if amount >= 0 else self.left, self.left)
        parts, got = [], 0
        while got < amount:
            data = os.read(self.fd, amount - got)
            if not data:
                parts.append(bytes(amount - got))  # past the file's new end
                break
            parts.append(data)
            got += len(data)
        self.left -= amount
        return b"".join(parts)


class _Counting:
    """The output with the ``tell`` tarfile's plain write mode asks for. Plain mode
    (not ``w|``) keeps no buffer of its own, so a failed write leaves nothing that
    tarfile would try to flush again later."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.count = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.count += len(data)
        return len(data)

    def tell(self) -> int:
        return self.count


class _TarWriter:
    def __init__(self, out: IO[bytes], layer: bool) -> None:
        self.tar = tarfile.TarFile(
            fileobj=_Counting(out),  # type: ignore[arg-type]
            mode="w",
            format=tarfile.PAX_FORMAT,
        )
        self.layer = layer
        self.links: dict[tuple[int, int], str] = {}

    def add(self, entry: Entry) -> None:
        st = entry.st
        xattrs = entry.xattrs()
        for attr in _REFUSED:
            if attr in xattrs:
                raise Unsupported(
                    f"{entry.path}: overlayfs marked it with {attr} (metacopy or redirect_dir "
                    "is on); such an upper directory cannot be read as a layer"
                )
        if self.layer and is_whiteout(st):
            parent, _, name = entry.path.rpartition("/")
            whiteout = WHITEOUT_PREFIX + name
            info = self._info(f"{parent}/{whiteout}" if parent else whiteout, st)
            info.mode = 0o600
            self.tar.addfile(info)
            return
        info = self._info(entry.path, st)
        info.pax_headers = {
            f"SCHILY.xattr.{attr}": value.decode("utf-8", "surrogateescape")
            for attr, value in xattrs.items()
            if not attr.startswith(_OVERLAY_PREFIX)
        }
        kind = entry.kind
        key = (st.st_dev, st.st_ino)
        if kind != stat.S_IFDIR and st.st_nlink > 1 and key in self.links:
            info.type = tarfile.LNKTYPE
            info.linkname = self.links[key]
            info.pax_headers = {}
            self.tar.addfile(info)
            return
        if kind != stat.S_IFDIR and st.st_nlink > 1:
            self.links[key] = entry.path
        if kind == stat.S_IFDIR:
            info.type = tarfile.DIRTYPE
            self.tar.addfile(info)
            if self.layer and xattrs.get(OPAQUE_XATTR) == b"y":
                marker = self._info(f"{entry.path}/{OPAQUE_MARKER}", st)
                marker.mode = 0o600
                self.tar.addfile(marker)
        elif kind == stat.S_IFREG:
            info.size = st.st_size
            self.tar.addfile(info, _Exactly(entry.fd, st.st_size))
        elif kind == stat.S_IFLNK:
            info.type = tarfile.SYMTYPE
            info.linkname = entry.readlink()
            self.tar.addfile(info)
        elif kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO):
            info.type = {stat.S_IFCHR: tarfile.CHRTYPE, stat.S_IFBLK: tarfile.BLKTYPE}.get(
                kind, tarfile.FIFOTYPE
            )
            if kind != stat.S_IFIFO:
                info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            self.tar.addfile(info)
        # sockets: left out, as Docker leaves them out

    @staticmethod
    def _info(name: str, st: os.stat_result) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.mtime = st.st_mtime_ns // 1_000_000_000
        return info

    def close(self) -> None:
        self.tar.close()


def write_layer(upper: str | os.PathLike[str], out: IO[bytes], skip: Collection[str] = ()) -> int:
    """The overlay upper directory ``upper`` as an uncompressed OCI layer tar, without
    the paths in ``skip`` (`runtime_stubs`); the number of entries written."""
    return _write(upper, out, layer=True, skip=skip)


def write_tree(root: str | os.PathLike[str] | int, out: IO[bytes]) -> None:
    """The directory ``root`` (a path or an open descriptor) as a plain tar, its
    contents at the archive's top."""
    _write(root, out, layer=False)


def _write(
    root: str | os.PathLike[str] | int,
    out: IO[bytes],
    layer: bool,
    skip: Collection[str] = (),
) -> int:
    writer = _TarWriter(out, layer)
    count = 0
    for entry in walk(root):
        if entry.path not in skip:
            writer.add(entry)
            count += 1
    writer.close()
    return count


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class Change:
    kind: str  # "A", "C" or "D", as docker diff prints them
    path: str  # absolute inside the container: "/etc/motd"

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


class _Lowers:
    """What the image's layers (base first) show at a path, read as overlayfs would."""

    def __init__(self, layers: list[Path]) -> None:
        self.top_first = [Path(p) for p in reversed(layers)]

    def lookup(self, path: str) -> tuple[os.stat_result, Path] | None:
        """The lstat of ``path`` in the merged lower view, and the layer that holds it."""
        parts = path.split("/")
        for layer in self.top_first:
            found, stop = _in_layer(layer, parts)
            if found is not None:
                return None if is_whiteout(found) else (found, layer)
            if stop:
                return None
        return None

    def children(self, path: str) -> set[str]:
        """The names the merged lower view holds in directory ``path``."""
        names: set[str] = set()
        hidden: set[str] = set()
        parts = path.split("/")
        for layer in self.top_first:
            found, stop = _in_layer(layer, parts)
            if found is not None:
                if not stat.S_ISDIR(found.st_mode):
                    break
                directory = layer.joinpath(*parts)
                for name in os.listdir(directory):
                    st = os.lstat(directory / name)
                    if name in hidden or name in names:
                        continue
                    (hidden if is_whiteout(st) else names).add(name)
                if _opaque(directory):
                    break
            if stop:
                break
        return names


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _in_layer(layer: Path, parts: list[str]) -> tuple[os.stat_result | None, bool]:
    """(lstat of the path in this one layer or None, whether lower layers are hidden).
    A symlink, file or whiteout on the way hides the path below; an opaque directory
    on the way hides the layers below this one."""
    current = layer
    for depth, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            return None, False
        if depth == len(parts) - 1:
            return st, False
        if not stat.S_ISDIR(st.st_mode):
            return None, True  # a file or a whiteout stands where a directory was
        if _opaque(current):
            # the rest of the path, if not here, is not below either
            rest = current.joinpath(*parts[depth + 1 :])
            try:
                return os.lstat(rest), False
            except (FileNotFoundError, NotADirectoryError):
                return None, True
    return None, False


def _lstat_at(root_fd: int, path: str) -> os.stat_result | None:
    """lstat of ``path`` under ``root_fd``, every directory on the way opened without
    following a symlink; None if it is missing or a component is not a directory."""
    parts = path.split("/")
    fd = os.dup(root_fd)
    try:
        for part in parts[:-1]:
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                return None
            os.close(fd)
            fd = child
        try:
            return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        except OSError:
            return None
    finally:
        os.close(fd)


def _names_at(root_fd: int, path: str) -> list[str]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root_fd)
    except OSError:
        return []
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


def runtime_stubs(
    upper: str | os.PathLike[str], layers: list[Path], candidates: Collection[str]
) -> set[str]:
    """Which of ``candidates`` (paths relative to the root) a runtime made in ``upper``
    to mount something over: new (not in the image) and empty, an empty file or a
    directory holding only such stubs. Docker makes these in a separate "init" layer,
    so its ``diff`` and ``commit`` never show them; we leave them out likewise."""
    lowers = _Lowers(layers)
    found: set[str] = set()
    root_fd = os.open(upper, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for path in sorted(candidates, key=lambda p: -p.count("/")):  # children first
            st = _lstat_at(root_fd, path)
            if st is None or lowers.lookup(path) is not None:
                continue
            empty_file = stat.S_ISREG(st.st_mode) and st.st_size == 0
            if empty_file or (
                stat.S_ISDIR(st.st_mode)
                and all(f"{path}/{name}" in found for name in _names_at(root_fd, path))
            ):
                found.add(path)
    finally:
        os.close(root_fd)
    return found


def changes(
    upper: str | os.PathLike[str], layers: list[Path], ignore: Collection[str] = ()
) -> list[Change]:
    """The container's changes against its image's layers (``layers``: base first);
    the runtime's stubs among ``ignore`` (`runtime_stubs`) left out, with the directory
    that holds them when they are its only change."""
    lowers = _Lowers(layers)
    stubs = runtime_stubs(upper, layers, ignore) if ignore else set()
    found: dict[str, str] = {}
    times_only: set[str] = set()
    for entry in walk(upper):
        path = entry.path
        if path in stubs:
            continue
        if is_whiteout(entry.st):
            found[path] = "D"
            continue
        lower = lowers.lookup(path)
        if lower is None:
            found[path] = "A"
            continue
        if entry.kind != stat.S_IFDIR or not stat.S_ISDIR(lower[0].st_mode):
            found[path] = "C"
            continue
        if entry.xattrs().get(OPAQUE_XATTR) == b"y":
            found[path] = "C"
            upper_names = set(os.listdir(Path(upper) / path))
            for name in lowers.children(path) - upper_names:
                found[f"{path}/{name}"] = "D"
            continue
        low = lower[0]
        if (stat.S_IMODE(entry.st.st_mode), entry.st.st_uid, entry.st.st_gid) != (
            stat.S_IMODE(low.st_mode),
            low.st_uid,
            low.st_gid,
        ):
            found[path] = "C"
        elif entry.st.st_mtime_ns != low.st_mtime_ns:
            found[path] = "C"
            times_only.add(path)
    # a directory whose time changed only because a stub was made in it
    for stub in stubs:
        parent = stub.rpartition("/")[0]
        if parent in times_only:
            found.pop(parent, None)
    # a directory above a change has changed too, as docker diff lists it
    for path in list(found):
        parent = path.rpartition("/")[0]
        while parent and parent not in found:
            found[parent] = "C"
            parent = parent.rpartition("/")[0]
    return sorted((Change(kind, "/" + path) for path, kind in found.items()), key=_order)


def _order(change: Change) -> tuple[str, ...]:
    return tuple(change.path.split("/"))


__all__ = ["Change", "changes", "is_whiteout", "runtime_stubs", "write_layer", "write_tree"]
