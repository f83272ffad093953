"""The few ``os.path`` and ``os`` helpers the runtime uses, on ``posix`` alone.

The runtime's modules call ``posix`` rather than ``os``: importing ``os``
costs ~3 ms on a slow VM (its ``environ`` mapping pulls in the ABCs of
``_collections_abc``), a tenth of what a container start spends in Python.
``posix`` has every system call ``os`` wraps; these are the helpers ``os``
and ``os.path`` add on top, with the same results for the uses here.
"""

from __future__ import annotations

import posix
from _stat import S_ISDIR, S_ISREG

_O_PATH = 0o10000000
_O_CLOEXEC = 0o2000000


def exists(path: str) -> bool:
    try:
        posix.stat(path)
    except (OSError, ValueError):
        return False
    return True


def lexists(path: str) -> bool:
    try:
        posix.lstat(path)
    except (OSError, ValueError):
        return False
    return True


def isdir(path: str) -> bool:
    try:
        return S_ISDIR(posix.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def isfile(path: str) -> bool:
    try:
        return S_ISREG(posix.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def dirname(path: str) -> str:
    """``os.path.dirname``: everything before the last slash, trailing slashes dropped."""
    head = path[: path.rfind("/") + 1]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head


def relpath(path: str, start: str) -> str:
    """``os.path.relpath`` for two absolute, normalised paths."""
    path_parts = [p for p in path.split("/") if p]
    start_parts = [p for p in start.split("/") if p]
    common = 0
    for a, b in zip(path_parts, start_parts, strict=False):
        if a != b:
            break
        common += 1
    parts = [".."] * (len(start_parts) - common) + path_parts[common:]
    return "/".join(parts) or "."


def realpath(path: str) -> str:
    """The absolute path of an existing file with every symlink resolved.

    The kernel resolves it (an O_PATH descriptor's /proc/self/fd link), so
    the answer is what an open of ``path`` reaches. Raises OSError (such as
    FileNotFoundError) if ``path`` does not exist, where ``os.path.realpath``
    would make one up.
    """
    fd = posix.open(path, _O_PATH | _O_CLOEXEC)
    try:
        return posix.readlink(f"/proc/self/fd/{fd}")
    finally:
        posix.close(fd)


def makedirs(path: str, mode: int = 0o777) -> None:
    """``os.makedirs(path, mode, exist_ok=True)``: the missing directories of
    ``path``; as there, ``mode`` is for the last one only."""
    if isdir(path):
        return
    parent = dirname(path.rstrip("/"))
    if parent and parent != path:
        makedirs(parent)
    try:
        posix.mkdir(path, mode)
    except FileExistsError:
        if not isdir(path):
            raise
