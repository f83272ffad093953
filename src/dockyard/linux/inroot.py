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

import _stat
import posix

from dockyard.linux import libc

_RESOLVE = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS
_O_PATH = posix.O_PATH | posix.O_CLOEXEC


def fd_path(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def open_in_root(root_fd: int, path: str, flags: int = _O_PATH, mode: int = 0) -> int:
    rel = "/".join(_parts(path)) or "."
    return libc.openat2(root_fd, rel, flags | posix.O_CLOEXEC, mode, _RESOLVE)


def mkdir_all(root_fd: int, path: str, mode: int = 0o755) -> int:
    """Make ``path`` and its parents inside the root; an O_PATH fd of the directory.

    A dangling symlink on the way is followed the way the kernel would
    follow it from inside the root (``/abs`` → ``<root>/abs-target``), and
    the missing directories are made there, as runc's securejoin does.
    """
    parts = _parts(path)
    links_followed = 0
    while True:
        try:
            return open_in_root(root_fd, "/".join(parts), _O_PATH | posix.O_DIRECTORY)
        except FileNotFoundError:
            pass
        # The deepest ancestor that exists, deepest first: usually only the
        # last part is missing.
        depth = len(parts) - 1
        while depth:
            try:
                parent = open_in_root(root_fd, "/".join(parts[:depth]), _O_PATH | posix.O_DIRECTORY)
                break
            except FileNotFoundError:
                depth -= 1
        else:
            parent = root_fd  # not ours to close
        try:
            while depth < len(parts):
                name = parts[depth]
                if name == "..":  # it exists: the kernel resolves it, inside the root
                    child = open_in_root(root_fd, "/".join(parts[: depth + 1]), _O_PATH)
                else:
                    try:
                        posix.mkdir(name, mode, dir_fd=parent)
                    except FileExistsError:
                        break  # a dangling symlink
                    child = libc.openat2(parent, name, _O_PATH | posix.O_DIRECTORY, 0, _RESOLVE)
                if parent != root_fd:
                    posix.close(parent)
                parent = child
                depth += 1
            else:
                made, parent = parent, -1
                return made
            # Splice the link's target into the path and go on from the root.
            links_followed += 1
            if links_followed > 40:
                raise OSError(40, "too many levels of symbolic links", path)
            target = posix.readlink(name, dir_fd=parent)
        finally:
            if parent not in (-1, root_fd):
                posix.close(parent)
        base = [] if target.startswith("/") else parts[:depth]
        parts = _clamp(_parts("/".join([*base, target, *parts[depth + 1 :]])))


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
            posix.O_CREAT | posix.O_WRONLY | posix.O_CLOEXEC,
            mode,
            libc.RESOLVE_BENEATH | libc.RESOLVE_NO_SYMLINKS,
        )
        posix.close(fd)
    except FileExistsError:
        pass
    finally:
        posix.close(parent)
    return open_in_root(root_fd, path)


def is_dir(fd: int) -> bool:
    return _stat.S_ISDIR(posix.fstat(fd).st_mode)
