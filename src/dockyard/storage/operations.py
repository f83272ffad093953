"""Operations: how a writer proves it is alive, and leases on what it uses.

Every writer (pull, load, import, export, snapshot create and remove,
garbage collection) works inside an operation: a private directory
``tmp/<name>/`` beside a lock file ``tmp/<name>.lock`` that the operation
holds with flock(2) from before the directory exists until after it is gone.
The lock is the only proof of life: a lock file nobody holds belongs to a
dead operation, and anyone may clean up after it.

Race-free between processes, with no window in which a live operation looks
dead:
- the owner creates its lock file (O_EXCL), locks it, and only then checks that
  the name still leads to the file it locked: a cleaner may have judged the
  fresh, not yet locked file dead and unlinked it, and the owner then starts
  again under a new name; it makes its directory only after that check;
- a cleaner claims a dead operation by taking its lock (non-blocking) and
  checking the same thing, removes the directory while holding the lock, then
  unlinks the lock file. Two cleaners never both hold it; a late one finds the
  name gone and leaves.
A directory in ``tmp/`` without a lock file is no operation's: nobody can tell
whether its writer is alive, so it is removed only by ``system check``, which
holds the store lock exclusively (no operation runs at all).

A lease (``tmp/<name>/lease``, one ``layer <id>`` or ``blob <digest>`` per
line) protects layers and blobs from garbage collection for as long as its
operation lives, as containerd's leases do: a pull leases the layers it finds
or makes until the image record that refers to them is written; an export or
a push leases the image it reads. A lease is written under gc.lock, before the
leased thing is looked for, so that collection either sees the lease or has
already removed the thing (and the operation makes it again). The lease of a
dead operation is void. Collection that leaves unreferenced things alone
because a lease holds them says so in ``gc.pending``; the last operation to end
collects them (gc.py).
"""

from __future__ import annotations

import errno
import fcntl
import os

from dockyard.errors import DockyardError, HostError

from .store import GC_LOCK, Store, fsync_dir, remove_tree

# no typing, secrets, dataclasses, pathlib or contextlib: a container start comes
# here (store.py)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from types import TracebackType

LEASE = "lease"
PENDING = "gc.pending"  # in the root: some removals wait for a lease to end


class Operation:
    """A running operation's private directory; its lock proves it is alive."""

    def __init__(self, store: Store, name: str, lock_fd: int) -> None:
        self.store = store
        self.name = name
        #: its private directory
        self.path = f"{store.path}/tmp/{name}"
        self._lock_fd = lock_fd
        self.closed = False

    @property
    def dir(self) -> Path:
        from pathlib import Path

        return Path(self.path)

    def temp(self, name: str) -> str:
        """A new name in the operation's directory, for ``name``'s work."""
        return f"{self.path}/{name}.{os.urandom(4).hex()}"

    def temp_path(self, name: str) -> Path:
        from pathlib import Path

        return Path(self.temp(name))

    def lease(self, layers: Iterable[str] = (), blobs: Iterable[str] = ()) -> None:
        """Keep ``layers`` and ``blobs`` from garbage collection while this operation runs."""
        text = "".join(f"layer {c}\n" for c in layers) + "".join(f"blob {d}\n" for d in blobs)
        if not text:
            return
        with self.store.locked(GC_LOCK), open(f"{self.path}/{LEASE}", "a") as f:
            f.write(text)

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store small content (a manifest, a config) already verified by the caller."""
        self.lease(blobs=[digest])
        if self.store.has_blob(digest):
            return
        tmp = self.temp("blob")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.commit_blob(tmp, digest)

    def commit_blob(self, tmp: str | os.PathLike[str], digest: str) -> None:
        """Publish a complete, fsynced blob file under its digest (leased by the caller)."""
        os.rename(tmp, self.store.blob_path(digest))
        fsync_dir(self.store.blobs_dir)

    def close(self) -> bool:
        """End the operation; True if collection waits for operations to end (gc.pending)."""
        if self.closed:
            return False
        self.closed = True
        with self.store.locked(GC_LOCK):
            # The lease ends under gc.lock: collection sees it or the records that replace it.
            try:
                os.unlink(f"{self.path}/{LEASE}")
            except FileNotFoundError:
                pass
            pending = _exists(f"{self.store.path}/{PENDING}")
        _remove(self.store, self.name, self._lock_fd)
        return pending


def _exists(path: str) -> bool:
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    return True


def mark_pending(store: Store, pending: bool = True) -> None:
    """Ask (or stop asking) the operations that end to collect garbage (gc.py)."""
    path = f"{store.path}/{PENDING}"
    if pending:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _lock_path(store: Store, name: str) -> str:
    return f"{store.path}/tmp/{name}.lock"


def _same_file(fd: int, path: str) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _remove_dead_tree(path: str) -> None:
    """remove_tree of what a dead writer left, mounts included: one killed between a
    mount and its unmount (the overlay probe) leaves it mounted, and rmdir says EBUSY."""
    try:
        remove_tree(path)
    except OSError as exc:
        if exc.errno != errno.EBUSY:
            raise
        _detach_mounts_under(path)
        remove_tree(path)


def _detach_mounts_under(path: str) -> None:
    from dockyard.linux import libc

    top = os.path.realpath(path) + "/"  # as mountinfo names it
    with open("/proc/self/mountinfo", "rb") as f:
        # space, tab, newline and backslash come as octal escapes (a store root may hold them)
        points = [
            line.split()[4]
            .decode("unicode_escape")
            .encode("latin-1")
            .decode(errors="surrogateescape")
            for line in f
        ]
    for point in sorted((p for p in points if p.startswith(top)), key=len, reverse=True):
        try:
            libc.umount2(point, libc.MNT_DETACH)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOENT):  # gone meanwhile
                raise


def _remove(store: Store, name: str, lock_fd: int) -> None:
    """Remove an operation's directory, then its lock file, holding its lock throughout."""
    try:
        try:
            os.rmdir(f"{store.path}/tmp/{name}")  # what a container start leaves: nothing
        except FileNotFoundError:
            pass
        except OSError:
            _remove_dead_tree(f"{store.path}/tmp/{name}")
        try:
            os.unlink(_lock_path(store, name))
        except FileNotFoundError:
            pass
    finally:
        os.close(lock_fd)


def start(store: Store, kind: str = "op") -> Operation:
    """A new operation (the caller holds store.lock, shared or exclusive)."""
    for _ in range(100):
        name = f"{kind}-{os.getpid()}-{os.urandom(6).hex()}"
        path = _lock_path(store, name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise HostError(
                f"cannot start an operation in {store.path}/tmp: {exc.strerror}"
            ) from exc
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same_file(fd, path):
            break
        os.close(fd)  # a cleaner took the unlocked file for a dead operation's: again
    else:
        raise HostError(f"cannot start an operation in {store.path}/tmp: lock files keep vanishing")
    try:
        os.mkdir(f"{store.path}/tmp/{name}")
    except OSError as exc:
        _remove(store, name, fd)
        raise HostError(f"cannot start an operation in {store.path}/tmp: {exc.strerror}") from exc
    return Operation(store, name, fd)


def begin(store: Store, collect_after: bool = True) -> OperationScope:
    """``with begin(store) as op``: an operation under the shared store lock, after a
    clean-up of dead ones.

    When it ends and collection waits for leases to end, it collects (outside
    the store lock: operations do not nest).
    """
    return OperationScope(store, collect_after)


class OperationScope:
    """`begin`'s context manager (a class: contextlib costs a container start ~2 ms)."""

    __slots__ = ("_collect_after", "_shared", "_store", "op")

    def __init__(self, store: Store, collect_after: bool) -> None:
        self._store = store
        self._collect_after = collect_after

    def __enter__(self) -> Operation:
        shared = self._store.shared()
        shared.__enter__()
        try:
            clean_dead(self._store)
            self.op = start(self._store)
        except BaseException:
            shared.__exit__(None, None, None)
            raise
        self._shared = shared
        return self.op

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store, op = self._store, self.op
        try:
            try:
                if kind is not None and _exists(f"{op.path}/{LEASE}"):
                    # What it stored and leased may now be used by nothing: collect it.
                    mark_pending(store)
            finally:
                pending = op.close()
        finally:
            self._shared.__exit__(None, None, None)
        # Not after an interrupt: a signal asks us to leave now; a later command collects.
        if pending and self._collect_after and (kind is None or isinstance(error, Exception)):
            from .gc import collect

            try:
                collect(store)
            except DockyardError:
                if kind is None:
                    raise


class Leftovers:
    def __init__(self, dead: list[str] | None = None, orphans: list[str] | None = None) -> None:
        self.dead: list[str] = list(dead or [])  # operations whose process died
        self.orphans: list[str] = list(orphans or [])  # entries no lock file vouches for

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Leftovers) and (self.dead, self.orphans) == (
            other.dead,
            other.orphans,
        )

    def __repr__(self) -> str:
        return f"Leftovers(dead={self.dead!r}, orphans={self.orphans!r})"


def _claim(path: str) -> int | None:
    """The lock fd of a dead operation's lock file, now held by us; None if alive or gone."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    if not _same_file(fd, path):  # another cleaner removed it meanwhile
        os.close(fd)
        return None
    return fd


def clean_dead(store: Store, dry_run: bool = False) -> list[str]:
    """Remove what dead operations left; the names removed (or, with ``dry_run``, found)."""
    found = []
    for entry in _entries(store):
        if not entry.endswith(".lock"):
            continue
        name = entry.removesuffix(".lock")
        fd = _claim(f"{store.path}/tmp/{entry}")
        if fd is None:
            continue
        found.append(name)
        if dry_run:
            os.close(fd)
        else:
            _remove(store, name, fd)
    return found


def clean_all(store: Store, dry_run: bool = False) -> Leftovers:
    """Dead operations and orphans; only with store.lock held exclusively (no operation runs)."""
    left = Leftovers(dead=clean_dead(store, dry_run))
    locks = {e.removesuffix(".lock") for e in _entries(store) if e.endswith(".lock")}
    for entry in _entries(store):
        if entry.endswith(".lock") or entry in locks or entry in left.dead:
            continue
        left.orphans.append(entry)
        if not dry_run:
            _remove_dead_tree(f"{store.path}/tmp/{entry}")
    return left


def _entries(store: Store) -> list[str]:
    try:
        return sorted(os.listdir(f"{store.path}/tmp"))
    except FileNotFoundError:
        return []


def live_leases(store: Store) -> tuple[set[str], set[str]]:
    """(layers, blobs) that live operations lease; the caller holds gc.lock."""
    layers: set[str] = set()
    blobs: set[str] = set()
    for entry in _entries(store):
        if not entry.endswith(".lock"):
            continue
        name = entry.removesuffix(".lock")
        try:
            fd = os.open(f"{store.path}/tmp/{entry}", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                continue  # nobody holds it: a dead operation, whose lease is void
            except BlockingIOError:
                pass
            try:
                with open(f"{store.path}/tmp/{name}/{LEASE}") as f:
                    text = f.read()
            except (FileNotFoundError, NotADirectoryError):
                continue
        finally:
            os.close(fd)
        for line in text.splitlines():
            kind, _, what = line.partition(" ")
            (layers if kind == "layer" else blobs).add(what)
    return layers, blobs


def is_enospc(exc: OSError) -> bool:
    return exc.errno == errno.ENOSPC
