"""Reading and writing cgroup files, and removing cgroup directories.

Every write names the config.json field it comes from, so that the kernel's
refusal becomes an error the user can act on: a missing file means the host
lacks the feature (``Unsupported``), EINVAL/ERANGE means a value the kernel
will not take (``InvalidSpec``), anything else is a ``HostError``.
"""

from __future__ import annotations

import errno
import posix
import time

from dockyard.errors import HostError, InvalidSpec, Unsupported
from dockyard.linux import fspath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_REFUSED = (errno.EINVAL, errno.ERANGE, errno.EOVERFLOW)


def _write(path: str, data: bytes) -> None:
    # One write(2) per value, as the kernel parses each write on its own. No
    # O_CREAT: a missing file means the kernel has no such knob. A seam: the
    # unit tests replace it with a fake kernel.
    fd = posix.open(path, posix.O_WRONLY | posix.O_TRUNC | posix.O_CLOEXEC)
    try:
        posix.write(fd, data)
    finally:
        posix.close(fd)


def _mkdir(path: str) -> None:
    # A seam, like _write and _rmdir: the unit tests' fake kernel fills the
    # new directory with the files the real kernel would show.
    posix.mkdir(path, 0o755)


def make_dirs(path: str) -> None:
    """mkdir -p for a cgroup, one level at a time (usually only the last is missing)."""
    try:
        _mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        parent = fspath.dirname(path)
        if parent == path:
            raise HostError(f"cannot create cgroup {path}: no such directory") from None
        make_dirs(parent)
        make_dirs(path)
    except OSError as exc:
        raise HostError(f"cannot create cgroup {path}: {exc.strerror}") from exc


def write(directory: str, name: str, value: str, field: str) -> None:
    """Write ``value`` to ``directory/name`` for the config.json ``field``.

    An empty ``directory`` stands for a controller this host does not have.
    """
    if not directory:
        controller = name.partition(".")[0]
        raise Unsupported(f"{field}: the {controller} cgroup controller is not available here")
    try:
        _write(f"{directory}/{name}", value.encode())
    except FileNotFoundError as exc:
        if not fspath.isdir(directory):
            raise HostError(f"cgroup {directory} does not exist (was it created?)") from exc
        raise Unsupported(
            f"{field}: this host's cgroups have no {name} (kernel too old or feature disabled)"
        ) from exc
    except OSError as exc:
        if exc.errno in _REFUSED:
            raise InvalidSpec(field, f"the kernel refused {value!r} for {name}") from exc
        raise HostError(
            f"{field}: writing {value!r} to {directory}/{name}: {exc.strerror}"
        ) from exc


def move(directory: str, pid: int) -> None:
    """Put the process ``pid`` into the cgroup ``directory``."""
    try:
        _write(f"{directory}/cgroup.procs", str(pid).encode())
    except OSError as exc:
        raise HostError(
            f"cannot move process {pid} into cgroup {directory}: {exc.strerror}"
        ) from exc


def write_quiet(directory: str, name: str, value: str) -> bool:
    """Write, returning False instead of raising (for best-effort knobs)."""
    try:
        _write(f"{directory}/{name}", value.encode())
    except OSError:
        return False
    return True


def read(directory: str, name: str) -> str:
    # Raw reads: a text-mode open() costs more than reading these few bytes.
    fd = posix.open(f"{directory}/{name}", posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        chunks = []
        while chunk := posix.read(fd, 65536):
            chunks.append(chunk)
    finally:
        posix.close(fd)
    return b"".join(chunks).decode().strip()


def read_or(directory: str, name: str, default: str = "") -> str:
    try:
        return read(directory, name)
    except OSError:
        return default


def exists(directory: str, name: str) -> bool:
    return fspath.exists(f"{directory}/{name}")


MAX_UINT64 = 18446744073709551615


def to_int(text: str) -> int:
    """A number as cgroup files print it; "max" (no limit) reads as 2**64-1, like runc."""
    text = text.strip()
    if text == "max":
        return MAX_UINT64
    try:
        return int(text)
    except ValueError:
        return 0


def read_int(directory: str, name: str) -> int:
    """The number in a one-value file; 0 when the file is absent or unreadable."""
    try:
        return to_int(read(directory, name))
    except OSError:
        return 0


def read_keyed(directory: str, name: str) -> dict[str, int]:
    """A flat keyed file ("key value" per line), such as memory.stat or cpu.stat."""
    values: dict[str, int] = {}
    try:
        text = read(directory, name)
    except OSError:
        return values
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key and value:
            values[key] = to_int(value)
    return values


def read_procs(directory: str) -> list[int]:
    try:
        return [int(line) for line in read(directory, "cgroup.procs").split()]
    except FileNotFoundError:
        return []


def procs_recursive(directory: str, found: set[int]) -> None:
    found.update(read_procs(directory))
    try:
        entries = list(posix.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            procs_recursive(entry.path, found)


def signal_all(list_pids: Callable[[], list[int]], signal: int) -> list[int]:
    """Signal every process ``list_pids`` names, through pidfds (no pid-reuse
    window); the pids signalled."""
    from dockyard.linux.proc import signal_listed

    return signal_listed(list_pids, signal)


def signal_until_gone(list_pids: Callable[[], list[int]], signal: int) -> None:
    """Without a freezer, signal again whatever appeared meanwhile (a few rounds)."""
    seen: set[int] = set()
    for _ in range(10):
        fresh = signal_all(lambda: [pid for pid in list_pids() if pid not in seen], signal)
        if not fresh:
            return
        seen.update(fresh)


def subdirs_deepest_first(directory: str) -> list[str]:
    """``directory`` and every cgroup below it, children before their parents."""
    order: list[str] = []
    try:
        entries = list(posix.scandir(directory))
    except FileNotFoundError:
        return order
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            order.extend(subdirs_deepest_first(entry.path))
    order.append(directory)
    return order


def _rmdir(path: str) -> None:
    # A seam: the unit tests' fake tree holds plain files, which rmdir on
    # cgroupfs would not mind; the tests replace this with a kernel-like rmdir.
    posix.rmdir(path)


def remove_tree(directory: str) -> bool:
    """rmdir ``directory`` and the cgroups under it, deepest first; True when all gone.

    A cgroup is a directory of kernel files: rmdir is the only way to remove it
    and it fails with EBUSY while a task (even one that just exited) is inside.
    """
    try:
        _rmdir(directory)  # the usual case: no cgroup below, nothing left inside
        return True
    except FileNotFoundError:
        return True
    except OSError:
        pass  # busy or not empty: the cgroups below go first, and what stays is reported
    gone = True
    for path in subdirs_deepest_first(directory):
        try:
            _rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            gone = False
    return gone


#: how long destroy retries rmdir while the kernel releases exited tasks
RMDIR_TIMEOUT = 2.0


def remove_trees(directories: list[str], timeout: float = 0.0) -> list[str]:
    """Remove every tree, retrying while the kernel releases exited tasks.

    Returns the directories still present after ``timeout`` seconds
    (``RMDIR_TIMEOUT`` when 0).
    """
    delay = 0.005
    deadline = time.monotonic() + (timeout or RMDIR_TIMEOUT)
    left = [d for d in directories if not remove_tree(d)]
    while left and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
        left = [d for d in left if not remove_tree(d)]
    return left


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    """Poll ``check()`` until it is true or ``timeout`` seconds have passed."""
    delay = 0.001
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
