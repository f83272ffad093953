"""One verb at a time per container: an flock on ``<run root>/locks/<id>``.

Database transactions are short; a verb (start, stop, rm) is long and talks
to processes in between. The lock spans the verb, and the kernel drops it
when its holder dies, so a killed CLI never leaves a container locked.
The file is removed by whoever removes the container, while holding it; a
waiter that then gets the lock on the removed file sees that (the path no
longer names its inode) and takes the lock again on a fresh file. That
fresh file would outlive the container, so a holder that releases the lock
of a container that no longer exists (``gone``) removes the file too.
"""

from __future__ import annotations

import fcntl
import posix

from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: descriptors of the locks this process holds: a forked child that lives on
#: (the monitor-to-be, and the container's init it forks) must close them, or
#: the lock would outlive this process in them
HELD: set[int] = set()


def held_by_another(path: str, exclusive: bool = True) -> bool:
    """True while another process holds an flock on ``path`` (one that conflicts with
    ``exclusive`` or shared); never makes the file."""
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        posix.close(fd)
    return False


def close_held_in_child() -> None:
    """In a forked child: let go of the parent's locks (closing never unlocks the
    parent's; the kernel counts descriptors)."""
    for fd in list(HELD):
        try:
            posix.close(fd)
        except OSError:
            pass
    HELD.clear()
    _OWNED.clear()


#: locks held with ``nested=True``, by (path, thread): [fd, depth]. A verb made of
#: verbs (restart: stop then start under one hold) takes the lock again without
#: blocking on itself; another thread still waits, as another process does.
_OWNED: dict[tuple[str, int], list[int]] = {}


class ContainerLock:
    __slots__ = ("fd", "gone", "path")

    def __init__(self, path: str, gone: Callable[[], bool] | None = None) -> None:
        self.path = path
        self.fd = -1
        #: True once the container is removed: its lock file then goes at release
        self.gone = gone

    def acquire(self, wait: bool = True, nested: bool = False) -> bool:
        """Take the lock; ``nested``: this thread's later acquires of the same lock,
        while this one is held, succeed at once (a verb made of verbs: restart)."""
        from _thread import get_ident

        owned = _OWNED.get((self.path, get_ident()))
        if owned is not None:
            owned[1] += 1
            self.fd = owned[0]
            return True
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        while True:
            try:
                fd = posix.open(self.path, posix.O_RDWR | posix.O_CREAT | posix.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                try:
                    posix.mkdir(self.path.rpartition("/")[0], 0o700)
                except FileExistsError:
                    pass
                except FileNotFoundError:
                    _make_parents(self.path.rpartition("/")[0])
                continue
            except OSError as exc:
                raise HostError(f"cannot open the container lock {self.path}: {exc}") from exc
            try:
                fcntl.flock(fd, flags)
            except BlockingIOError:
                posix.close(fd)
                return False
            try:
                same = posix.stat(self.path).st_ino == posix.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                HELD.add(fd)
                if nested:
                    _OWNED[(self.path, get_ident())] = [fd, 1]
                return True
            posix.close(fd)  # removed while we waited: lock the new file

    def release(self, remove: bool = False) -> None:
        from _thread import get_ident

        if self.fd < 0:
            return
        owned = _OWNED.get((self.path, get_ident()))
        if owned is not None and owned[1] > 1:
            owned[1] -= 1  # an outer hold goes on
            self.fd = -1
            return
        _OWNED.pop((self.path, get_ident()), None)
        if not remove and self.gone is not None:
            try:
                remove = self.gone()
            except Exception:
                remove = False  # a busy database: the next check removes the file
        if remove:
            try:
                posix.unlink(self.path)
            except FileNotFoundError:
                pass
        HELD.discard(self.fd)
        posix.close(self.fd)
        self.fd = -1

    def __enter__(self) -> ContainerLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _make_parents(directory: str) -> None:
    parts = directory.split("/")
    for i in range(2, len(parts) + 1):
        try:
            posix.mkdir("/".join(parts[:i]) or "/", 0o711)
        except FileExistsError:
            pass
