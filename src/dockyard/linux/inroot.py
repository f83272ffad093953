"""Path resolution that can never leave a container's root.

Every path taken from a spec or an image is opened with openat2(2) and
RESOLVE_IN_ROOT relative to a descriptor of the root: symlinks and ``..`` are
resolved as if the root were ``/``, so a hostile rootfs (``/proc`` a link to
the host's ``/``, a link swapped in mid-setup) cannot redirect a mount, a
device node or a masked path outside it. The result is an ``O_PATH``
descriptor; mounts then target ``/proc/self/fd/N``, the object itself, so no
path is resolved twice (the CVE-2021-30465 race).
"""

from __future__ import annotations

import os
import stat

from dockyard.linux import libc

_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS
_O_PATH = os.O_PATH | os.O_CLOEXEC


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def open_in_root(root_fd: int, path: str, flags: int = _O_PATH, mode: int = 0) -> int:
    rel = "/".join(_parts(path)) or "."
    return libc.openat2(root_fd, rel, flags | os.O_CLOEXEC, mode, _RESOLVE)


def mkdir_all(root_fd: int, path: str, mode: int = 0o755) -> int:
    """Make ``path`` and its parents inside the root; an O_PATH fd of the directory.

    A dangling symlink on the way is followed the way the kernel would
    follow it from inside the root (``/abs`` → ``<root>/abs-target``), and
    the missing directories are made there, as runc's securejoin does.
    """
    try:
        return open_in_root(root_fd, path, _O_PATH | os.O_DIRECTORY)
    except FileNotFoundError:
        pass
    parts = _parts(path)
    depth = 1
    links_followed = 0
    while depth <= len(parts):
        prefix = "/".join(parts[:depth])
        try:
            os.close(open_in_root(root_fd, prefix, _O_PATH | os.O_DIRECTORY))
            depth += 1
            continue
        except FileNotFoundError:
            pass
        parent = open_in_root(root_fd, "/".join(parts[: depth - 1]), _O_PATH | os.O_DIRECTORY)
        try:
            os.mkdir(parts[depth - 1], mode, dir_fd=parent)
            depth += 1
        except FileExistsError:
            # A dangling symlink: splice its target into the path and go on.
            links_followed += 1
            if links_followed > 40:
                raise OSError(40, "too many levels of symbolic links", path) from None
            target = os.readlink(parts[depth - 1], dir_fd=parent)
            base = [] if target.startswith("/") else parts[: depth - 1]
            parts = _parts("/".join([*base, target, *parts[depth:]]))
            parts = _clamp(parts)
            depth = 1
        finally:
            os.close(parent)
    return open_in_root(root_fd, "/".join(parts), _O_PATH | os.O_DIRECTORY)


def _clamp(parts: list[str]) -> list[str]:
    """Resolve ``..`` lexically, never above the root."""
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        else:
            out.append(part)
    return out


def make_file(root_fd: int, path: str, mode: int = 0o644) -> int:
    """Make an empty file (and its parents) inside the root unless something is there.

    Returns an O_PATH fd of what is at ``path`` afterwards, file or not.
    """
    try:
        return open_in_root(root_fd, path)
    except FileNotFoundError:
        pass
    parts = _parts(path)
    parent = mkdir_all(root_fd, "/".join(parts[:-1]))
    try:
        fd = libc.openat2(
            parent,
            parts[-1],
            os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC,
            mode,
            libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS,
        )
        os.close(fd)
    except FileExistsError:
        pass
    finally:
        os.close(parent)
    return open_in_root(root_fd, path)


def is_dir(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)
