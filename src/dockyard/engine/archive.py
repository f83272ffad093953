"""The archive verbs Docker's ``cp`` and docker-py's ``get_archive``/``put_archive`` use:
a path's stat, a path as a tar stream, a tar stream unpacked into a directory.

Each works on the container's filesystem as engine/container_fs.py shows it
(running or stopped, volumes included), every path resolved inside it
(engine/archive_tar.py, engine/archive_extract.py). They record Docker's
``archive-path`` and ``extract-to-dir`` events.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from dockyard.engine.archive_tar import PathStat
from dockyard.errors import Conflict, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

    from dockyard.engine.engine import Engine

__all__ = ["PathStat", "get_archive", "put_archive", "stat_path"]


def _absolute(path: str) -> str:
    """Docker's: a container path is absolute; a trailing ``/`` or ``/.`` is kept."""
    if not path:
        raise InvalidArgument("the path in the container cannot be empty")
    return path if path.startswith("/") else "/" + path


def stat_path(engine: Engine, name: str, path: str) -> PathStat:
    from dockyard.engine.archive_tar import stat_path as stat_in
    from dockyard.engine.container_fs import view

    rec = engine.containers.find(name)
    with view(engine, rec) as fs:
        return _located(name, path, lambda: stat_in(fs.root_fd, _absolute(path)))


def _located(container: str, path: str, action: object) -> PathStat:
    from dockyard.errors import NotFound

    try:
        return action()  # type: ignore[operator,no-any-return]
    except NotFound:
        raise NotFound(f"Could not find the file {path} in container {container}") from None


@contextmanager
def reading(engine: Engine, name: str, path: str) -> Iterator[tuple[int, str, PathStat]]:
    """The container's root fd, the absolute path and its stat, for a tar of the path
    (``archive-path`` is recorded after). Open it before starting any thread: it forks."""
    from dockyard.engine.archive_tar import stat_path as stat_in
    from dockyard.engine.container_fs import view
    from dockyard.engine.events import container_event

    rec = engine.containers.find(name)
    absolute = _absolute(path)
    with view(engine, rec) as fs:
        found = _located(name, path, lambda: stat_in(fs.root_fd, absolute))
        yield fs.root_fd, absolute, found
    container_event(engine, rec, "archive-path")


@contextmanager
def writing(engine: Engine, name: str, path: str) -> Iterator[tuple[int, str]]:
    """The container's root fd and the absolute path of the directory to unpack into,
    checked (``extract-to-dir`` is recorded after). Open it before starting any thread."""
    from dockyard.engine.container_fs import view
    from dockyard.engine.events import container_event

    rec = engine.containers.find(name)
    absolute = _absolute(path)
    with view(engine, rec) as fs:
        _check_writable(fs.root_fd, absolute, fs.read_only, name, path)
        yield fs.root_fd, absolute
    container_event(engine, rec, "extract-to-dir")


def get_archive(engine: Engine, name: str, path: str, out: BinaryIO) -> PathStat:
    """Write ``path`` as a tar stream to ``out``; its stat (taken before any byte is
    written, so a missing path fails with nothing written)."""
    from dockyard.engine.archive_tar import write_tar

    with reading(engine, name, path) as (root_fd, absolute, found):
        write_tar(root_fd, absolute, out)
    return found


def put_archive(
    engine: Engine,
    name: str,
    path: str,
    stream: BinaryIO,
    keep_owner: bool = False,
    rebase: tuple[str, str] | None = None,
) -> None:
    """Unpack the tar ``stream`` into directory ``path`` of the container (it must
    exist); ``keep_owner`` keeps the archive's owners (``cp -a``), else root owns all."""
    with writing(engine, name, path) as (root_fd, absolute):
        extract_in_container(stream, root_fd, absolute, keep_owner, rebase)


def extract_in_container(
    stream: BinaryIO,
    root_fd: int,
    directory: str,
    keep_owner: bool = False,
    rebase: tuple[str, str] | None = None,
) -> None:
    """`archive_extract.extract`, its refusals worded as Docker's daemon words them
    (its untar runs as a child process in the container's root)."""
    from dockyard.engine.archive_extract import extract

    try:
        extract(stream, root_fd, directory, keep_owner, rebase)
    except InvalidArgument as exc:
        raise InvalidArgument(f"Error processing tar file(exit status 1): {exc}") from exc


def _check_writable(root_fd: int, path: str, rootfs_read_only: bool, cid: str, shown: str) -> None:
    """Docker's refusals before unpacking: a read-only root filesystem (outside its
    volumes), a read-only volume."""
    from dockyard.engine.archive_tar import open_in
    from dockyard.errors import NotFound

    try:
        fd = open_in(root_fd, path, os.O_RDONLY | os.O_DIRECTORY)
    except NotADirectoryError:
        raise InvalidArgument("extraction point is not a directory") from None
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {shown} in container {cid}") from None
    try:
        if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
            root = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=root_fd)
            try:
                on_root = os.fstat(root).st_dev == os.fstat(fd).st_dev
            finally:
                os.close(root)
            if on_root and rootfs_read_only:
                raise Conflict("container rootfs is marked read-only")
            raise Conflict("mounted volume is marked read-only")
    finally:
        os.close(fd)
