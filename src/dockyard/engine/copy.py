"""``cp``: Docker's path rules between a container and the host, over tar streams.

What Docker's CLI decides before the archive moves (docker/cli cp.go, moby's
archive.PrepareArchiveCopy), done here in one place:

- a file onto a missing path makes that file; onto an existing file replaces
  it; into an existing directory keeps its name; onto ``missing/`` fails;
- a directory onto a missing path becomes that path; into an existing
  directory goes inside it, or, as ``dir/.``, only its content does; onto a
  file fails;
- the destination's parent must exist; a destination that is a symlink is
  followed; a source symlink is copied as a link unless ``-L``.

The archive is written by one thread and unpacked by another through a pipe,
so nothing is spooled. The host's side resolves host paths as they are; the
container's side resolves everything inside the container (engine/archive.py).
"""

from __future__ import annotations

import os
import threading

from dockyard.engine.archive_tar import split
from dockyard.engine.record import record
from dockyard.errors import InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    from dockyard.engine.engine import Engine


class CopyRefused(InvalidArgument):
    """A copy Docker's CLI refuses itself, before asking the daemon (said as it is)."""


class LocalNotFound(NotFound):
    """A host path that is not there (said as it is, as Docker's CLI says it)."""


@record
class Info:
    """Docker's archive.CopyInfo: a path, whether it exists and is a directory, and the
    name its archive's entries carry when that is not the path's own base name."""

    path: str
    exists: bool = False
    is_dir: bool = False
    rebase_name: str = ""


def trailing(original: str, cleaned: str) -> str:
    """Docker's PreserveTrailingDotOrSeparator."""
    if original.endswith("/.") or original == ".":
        return cleaned.rstrip("/") + "/."
    if original.endswith("/") and not cleaned.endswith("/"):
        return cleaned + "/"
    return cleaned


def plan(src: Info, dst: Info) -> tuple[str, tuple[str, str] | None]:
    """Docker's PrepareArchiveCopy: the directory to unpack into, and the renaming of
    the archive's top entry (old name, new name) if one is needed."""
    dst_dir, dst_base = split(dst.path)
    src_base = src.rebase_name or split(src.path)[1]
    if dst.exists and dst.is_dir:
        return dst.path, None
    if dst.exists and src.is_dir:
        raise CopyRefused("cannot copy directory")
    if dst.exists or src.is_dir:
        return dst_dir, (src_base, dst_base)
    if dst.path.endswith("/") or dst.path.endswith("/."):
        raise CopyRefused("no such directory")
    return dst_dir, (src_base, dst_base)


# ---------------------------------------------------------------- the host's side


def local_source(path: str, follow: bool) -> Info:
    """Docker's CopyInfoSourcePath: the directories followed, the last name too with -L."""
    absolute = trailing(path, os.path.abspath(path))
    rebase = ""
    if follow:
        resolved = trailing(absolute, os.path.realpath(absolute))
        if split(absolute)[1] != split(resolved)[1]:
            rebase = split(absolute)[1]
    else:
        directory, base = os.path.split(absolute.rstrip("/") if absolute != "/" else "/")
        # joined as Docker joins it ("/" + "/" + "x": its "lstat //x" says so too)
        resolved = trailing(absolute, f"{os.path.realpath(directory)}/{base}")
    try:
        st = os.lstat(resolved.rstrip("/") or "/")
    except OSError as exc:
        raise LocalNotFound(
            f"lstat {resolved.rstrip('/')}: {(exc.strerror or str(exc)).lower()}"
        ) from None
    import stat

    return Info(resolved, True, stat.S_ISDIR(st.st_mode), rebase)


def validate_output_path(path: str) -> None:
    """docker/cli's ValidateOutputPath, before anything else: the directory exists, and
    what is there is a directory or a regular file. A FIFO or a socket is refused too
    (Docker's check lets them by, then its untar replaces them with a regular file)."""
    import stat

    directory = os.path.dirname(os.path.normpath(path))
    if directory and directory != "." and not os.path.exists(directory):
        raise CopyRefused(f'invalid output path: directory "{directory}" does not exist')
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        kind = "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else (
            "a named pipe" if stat.S_ISFIFO(st.st_mode) else "a socket"
        )  # fmt: skip
        raise CopyRefused(
            f'invalid output path: "{path}" must be a directory or a regular file: got {kind}'
        )


def local_destination(path: str) -> Info:
    """Docker's CopyInfoDestinationPath: symlinks followed (ten at most); a missing
    path is fine when its parent is a directory."""
    import stat

    current = trailing(path, os.path.abspath(path))
    validate_output_path(current)
    for _ in range(11):
        try:
            st = os.lstat(current.rstrip("/") or "/")
        except FileNotFoundError:
            parent = split(current)[0]
            if not os.path.exists(parent):  # a symlink's target: its directory is missing
                raise LocalNotFound(f"lstat {parent}: no such file or directory") from None
            if not os.path.isdir(parent):
                raise CopyRefused(f"{parent}: not a directory") from None
            return Info(current)
        if not stat.S_ISLNK(st.st_mode):
            return Info(current, True, stat.S_ISDIR(st.st_mode))
        target = os.readlink(current.rstrip("/"))
        if not target.startswith("/"):
            target = os.path.join(split(current)[0], target)
        current = os.path.normpath(target)
    raise CopyRefused(f"too many symlinks in {path}")


# ---------------------------------------------------------------- plumbing


def _piped(write: Callable[[BinaryIO], object], read: Callable[[BinaryIO], object]) -> None:
    """``write`` fills a pipe in a thread while ``read`` drains it here; the first
    error wins, the other side's resulting broken pipe is not reported."""
    r, w = os.pipe2(os.O_CLOEXEC)
    failure: list[BaseException] = []

    def writer() -> None:
        with open(w, "wb") as out:
            try:
                write(out)
            except BrokenPipeError:
                pass
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)

    thread = threading.Thread(target=writer, name="cp-writer", daemon=True)
    thread.start()
    try:
        with open(r, "rb") as stream:
            read(stream)
    except BaseException:
        thread.join()
        if failure:
            raise failure[0] from None
        raise
    thread.join()
    if failure:
        raise failure[0]


# ---------------------------------------------------------------- the two directions


class _Counted:
    """A stream that counts what is read through it: the bytes ``cp`` reports."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.count += len(data)
        return data


def copy_from_container(
    engine: Engine, name: str, src: str, dst: str, follow: bool = False, keep_owner: bool = False
) -> int:
    """``cp NAME:SRC DST``; the bytes of archive moved."""
    from dockyard.engine.archive import reading, stat_path
    from dockyard.engine.archive_extract import extract
    from dockyard.engine.archive_tar import write_tar

    found = stat_path(engine, name, src)
    rebase = ""
    if follow and found.is_symlink:
        target = found.link_target
        if split(src)[1] != split(target)[1]:
            rebase = split(src)[1]  # the copy keeps the link's name
        src = trailing(src, target)
        found = stat_path(engine, name, src)
    directory, renaming = plan(Info(src, True, found.is_dir, rebase), local_destination(dst))
    top = _entry(src)  # what get_archive names the archive's top entry
    final = (top, renaming[1]) if renaming else ((top, rebase) if rebase else None)
    root_fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    counted: list[_Counted] = []

    def read(stream: BinaryIO) -> None:
        counted.append(_Counted(stream))
        extract(counted[0], root_fd, ".", keep_owner, final)  # type: ignore[arg-type]

    try:
        # the container's side is opened (a fork) before the writing thread starts
        with reading(engine, name, src) as (container_fd, absolute, _):
            _piped(lambda out: write_tar(container_fd, absolute, out), read)
    finally:
        os.close(root_fd)
    return counted[0].count if counted else 0


def _entry(path: str) -> str:
    from dockyard.engine.archive_tar import entry_name

    found = entry_name(path)
    return "." if found == "/" else found


def container_destination(engine: Engine, name: str, dst: str) -> Info:
    """The destination in the container, one symlink followed as Docker's CLI does."""
    from dockyard.engine.archive import stat_path

    try:
        found = stat_path(engine, name, dst)
    except NotFound:
        return Info(dst)
    path = dst
    if found.is_symlink:
        path = found.link_target
        try:
            found = stat_path(engine, name, path)
        except NotFound:
            return Info(path)
    kind = found.mode & ((1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24))
    if kind and not found.is_dir:
        raise InvalidArgument(f'destination "{name}:{dst}" must be a directory or a regular file')
    return Info(path, True, found.is_dir)


def copy_to_container(
    engine: Engine,
    name: str,
    src: str,
    dst: str,
    follow: bool = False,
    keep_owner: bool = False,
    stdin: BinaryIO | None = None,
) -> int:
    """``cp SRC NAME:DST`` (``-`` as SRC: a tar stream from ``stdin``); bytes copied."""
    from dockyard.engine.archive import extract_in_container, put_archive, writing
    from dockyard.engine.archive_tar import write_tar

    dst_info = container_destination(engine, name, dst)
    if src == "-":
        if not (dst_info.exists and dst_info.is_dir):
            raise CopyRefused(f'destination "{name}:{dst}" must be a directory')
        assert stdin is not None
        put_archive(engine, name, dst_info.path, stdin, keep_owner)
        return 0
    source = local_source(src, follow)
    directory, renaming = plan(source, dst_info)
    top = source.rebase_name or _entry(source.path)  # what write_tar names the top entry
    final = (top, renaming[1]) if renaming else None
    root_fd = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    counted: list[_Counted] = []
    try:
        # the container's side is opened (a fork) before the writing thread starts
        with writing(engine, name, directory) as (container_fd, absolute):

            def read(stream: BinaryIO) -> None:
                counted.append(_Counted(stream))
                extract_in_container(counted[0], container_fd, absolute, keep_owner, final)  # type: ignore[arg-type]

            _piped(lambda out: write_tar(root_fd, source.path, out, source.rebase_name), read)
    finally:
        os.close(root_fd)
    return counted[0].count if counted else 0


__all__ = [
    "CopyRefused",
    "Info",
    "LocalNotFound",
    "container_destination",
    "copy_from_container",
    "copy_to_container",
    "local_destination",
    "local_source",
    "plan",
]
