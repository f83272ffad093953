"""An image archive that arrives as a stream (stdin, a pipe), kept in a private directory.

``docker load`` reads archives whose index (manifest.json, index.json) may come
last, so the members have to be kept until the end; Docker extracts them into
a temp dir of its own, and so do we, into a directory the caller owns (the
store's operation dir, removed when the operation ends, even after a crash).
Each header is checked as it arrives: random bytes or a cut archive fail at
the first bad block, without reading on. Only what an image archive holds is
accepted: directories, regular files, and links between members (old
docker-archives link duplicate layers), which become hardlinks of the spooled
file. The result is an ordinary directory for `layout.Bundle` to read.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from pathlib import Path

from dockyard.errors import InvalidArgument

from .digest import Readable

MAX_MEMBERS = 1_000_000
MAX_LINK_HOPS = 8
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC


class BadArchive(InvalidArgument):
    """The stream is not a tar archive, or not one an image comes in."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: not a valid image archive: {problem}")


def _clean(label: str, name: str) -> str:
    """The member's path relative to the archive root; absolute and '..' refused."""
    parts = [p for p in name.split("/") if p and p != "."]
    if name.startswith("/") or ".." in parts or "\0" in name:
        raise BadArchive(label, f"entry {name[:200]!r} points outside the archive")
    return "/".join(parts)


def spool_archive(stream: Readable, dest: Path, label: str) -> int:
    """Unpack the tar ``stream`` (plain, gzip, bzip2 or xz) into the empty directory
    ``dest``; returns the number of members. ``label`` names the stream in errors."""
    links: dict[str, str] = {}  # link name -> its target, both archive paths
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:  # type: ignore[call-overload]
            while (member := tar.next()) is not None:
                tar.members.clear()  # a stream of any length must not grow a list
                count += 1
                if count > MAX_MEMBERS:
                    raise BadArchive(label, f"more than {MAX_MEMBERS} entries")
                name = _clean(label, member.name)
                if not name:
                    continue  # "./"
                if member.isdir():
                    _make_dirs(dest, name, label)
                elif member.sparse is not None or member.type == tarfile.GNUTYPE_SPARSE:
                    # its holes would be written out as zeros: gigabytes from kilobytes
                    raise BadArchive(label, f"entry {name!r} is a sparse file")
                elif member.isreg():
                    _make_dirs(dest, posixpath.dirname(name), label)
                    _copy_member(tar, member, dest / name, label)
                elif member.issym():
                    target = member.linkname
                    if not target.startswith("/"):
                        target = posixpath.join(posixpath.dirname(name), target)
                    links[name] = posixpath.normpath("/" + target).lstrip("/")
                elif member.islnk():
                    links[name] = _clean(label, member.linkname)
                else:
                    raise BadArchive(label, f"entry {name!r} is a device or FIFO")
    except (tarfile.TarError, ValueError, EOFError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if problem == "unexpected end of data":
            problem += f" after {count} entries (is the archive cut short?)"
        raise BadArchive(label, problem) from exc
    for name, target in links.items():
        _link(dest, name, _final_target(target, links), label)
    return count


def _make_dirs(dest: Path, name: str, label: str) -> None:
    if not name:
        return
    try:
        os.makedirs(dest / name, mode=0o700, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BadArchive(label, f"{name!r} is both a file and a directory") from None


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path, label: str) -> None:
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has contents
    try:
        fd = os.open(path, _FILE_FLAGS, 0o600)
    except IsADirectoryError:
        raise BadArchive(label, f"{member.name!r} is both a file and a directory") from None
    try:
        buffer = bytearray(1 << 20)
        while n := source.readinto(buffer):  # type: ignore[attr-defined]
            view = memoryview(buffer)[:n]
            while view:
                view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _final_target(target: str, links: dict[str, str]) -> str:
    for _ in range(MAX_LINK_HOPS):  # links to links, as Bundle follows them
        if target not in links:
            break
        target = links[target]
    return target


def _link(dest: Path, name: str, target: str, label: str) -> None:
    """``name`` as a hardlink of the spooled file ``target``; a dangling link is left out."""
    source = dest / target
    try:
        if not source.is_file() or source.is_symlink():
            return
        _make_dirs(dest, posixpath.dirname(name), label)
        os.link(source, dest / name, follow_symlinks=False)
    except FileExistsError:
        raise BadArchive(label, f"entry {name!r} is both a link and a file") from None
