"""The local image store: its directory, its locks and its content-addressed blobs.

    <root>/blobs/sha256/<hex>     manifests, configs, compressed layers; named by digest
    <root>/layers/<chain hex>/    diff/ (the unpacked layer) and layer.json
    <root>/images/<id hex>.json   one record per image (id = config digest)
    <root>/names.json             tags: "docker.io/library/busybox:latest" -> image id
    <root>/snapshots/<id>/        containers' root filesystems (see snapshots.py)
    <root>/tmp/<op>/, <op>.lock   one private directory per running operation (operations.py)

Crash safety comes from one rule: everything is built in an operation's
private directory and moved into place with rename(2), the commit point; a
layer directory is complete before it is renamed, an image record is written
after all its layers and blobs exist, and tags after the record. What a
rename publishes is on disk before the rename (fsync of a file, syncfs(2) for
a layer's tree), and the directory holding the new name is fsynced after it,
so that a power cut leaves the old state or the new one, never an empty
record under a final name.

The locks, all flock(2) on files in the root, taken in this order:

    gate.lock     held shortly by an operation while it takes store.lock, and by
                  `system check` for as long as it waits for store.lock: a
                  waiting check is not starved by a stream of new operations
    store.lock    shared by every operation; exclusive for `system check`,
                  which alone may judge what no lock vouches for
    records.lock  every read-modify-write of names.json, an image, layer or
                  snapshot record, and the checks that must agree with them
                  (``rmi`` looking for a snapshot that uses an image)
    gc.lock       leases and garbage collection (gc.py): held only briefly
"""

from __future__ import annotations

import errno
import fcntl
import os

from dockyard.errors import HostError, NoSpace, NotFound
from dockyard.oci import jsonio

# typing, secrets, shutil, pathlib, contextlib and compression (hashlib, zlib)
# stay out of the import: a container start goes through this module, and they
# cost more than its work there (pathlib and shutil bring re and enum: ~8 ms of
# CPU a start; contextlib brings functools and collections; see engine/db.py and
# docs/performance.md). The paths a start uses are strings (`Store.path`); the
# `Path` attributes are made on demand; the locks are context manager classes.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType
    from typing import IO, Any

    from .compression import Readable
    from .operations import OperationScope

DEFAULT_ROOT = "/var/lib/dockyard"
#: how overlayfs marks an opaque directory (unpack writes it, snapshots and the differ read it)
OPAQUE_XATTR = "trusted.overlay.opaque"
STORE_LOCK, GATE_LOCK, RECORDS_LOCK, GC_LOCK = "store.lock", "gate.lock", "records.lock", "gc.lock"

# store root -> how many of this process's blocks hold store.lock (shared or exclusive)
_held: dict[str, int] = {}


def hex_of(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64:
        raise NotFound(f"{digest!r} is not a sha256 digest")
    return hexpart


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make the names in ``path`` (a rename into it, an unlink) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_error(what: str, exc: OSError) -> HostError:
    """The error for a failed write of ``what``: `NoSpace` for a full filesystem (retrying
    cannot help), else `HostError`; one line either way."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(f"writing {what}: no space left on device")
    return HostError(f"cannot write {what}: {exc.strerror or exc}")


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: a durable temporary file beside it, renamed over it.

    On failure (a full disk, say) the temporary file is removed and an
    error (`write_error`) names the file and the cause.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise write_error(str(path), exc) from exc


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, (jsonio.dumps(value, indent=2) + "\n").encode())


def write_new_json(path: str | os.PathLike[str], value: Any, sync: bool = True) -> None:
    """Create ``path`` in a directory of our own (an operation's work directory, renamed
    into the store later): no temporary name needed. ``sync``: fsync it (the caller
    syncs the directory's rename); without, the caller syncs the whole tree."""
    data = (jsonio.dumps(value, indent=2) + "\n").encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            write_all(fd, data)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise write_error(os.fspath(path), exc) from exc


def read_json(path: str | os.PathLike[str]) -> Any:
    """The JSON in ``path``; FileNotFoundError if missing, `Damaged` if unreadable."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return jsonio.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Damaged(path, "empty" if not data.strip() else str(exc)) from None


class Damaged(HostError):
    """A record that is not what the store writes: empty, truncated or garbled."""

    def __init__(self, path: str | os.PathLike[str], why: str) -> None:
        super().__init__(f"{os.fspath(path)} is damaged ({why}); run 'dockyard system check'")
        self.path = _path(os.fspath(path))  # a Path, whoever read it (pathlib only now)
        self.why = why


def remove_tree(path: str | os.PathLike[str]) -> None:
    """rm -rf, also of read-only directories a layer may hold; what is gone already is fine.

    By descriptors, never following a symbolic link (one swapped in for a
    directory meanwhile is removed, not followed), as shutil.rmtree does; not
    shutil itself, whose import (fnmatch, re, bz2, lzma) costs more than a
    ``run --rm`` spends removing its container.
    """
    parent, _, name = os.fspath(path).rstrip("/").rpartition("/")
    try:
        dfd = os.open(parent or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        _remove_at(dfd, name)
    finally:
        os.close(dfd)


def _remove_at(dfd: int, name: str) -> None:
    """Remove ``name`` (anything; a directory with all it holds) from the directory ``dfd``.
    An entry a read-only directory keeps is removed after making the directory writable."""
    try:
        try:
            os.unlink(name, dir_fd=dfd)
        except PermissionError:
            os.fchmod(dfd, 0o700)
            os.unlink(name, dir_fd=dfd)
        return
    except IsADirectoryError:
        pass  # Linux's answer for a directory
    except FileNotFoundError:
        return  # removed by someone else meanwhile
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        try:
            fd = os.open(name, flags, dir_fd=dfd)
        except PermissionError:  # a directory we may not read: make it ours to empty
            os.chmod(name, 0o700, dir_fd=dfd)
            fd = os.open(name, flags, dir_fd=dfd)
        try:
            with os.scandir(fd) as entries:
                names = [entry.name for entry in entries]
            for child in names:
                _remove_at(fd, child)
        finally:
            os.close(fd)
        try:
            os.rmdir(name, dir_fd=dfd)
        except PermissionError:
            os.fchmod(dfd, 0o700)
            os.rmdir(name, dir_fd=dfd)
    except FileNotFoundError:
        pass


class Store:
    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT) -> None:
        #: the store's directory; the paths a container start uses are built from it
        self.path = os.fspath(root).rstrip("/") or "/"
        try:
            for d in ("blobs/sha256", "layers", "images", "snapshots", "tmp"):
                _make_dirs(f"{self.path}/{d}")
        except OSError as exc:
            raise HostError(f"cannot use the store at {self.path}: {exc}") from exc

    @property
    def root(self) -> Path:
        return _path(self.path)

    @property
    def blobs_dir(self) -> Path:
        return _path(f"{self.path}/blobs/sha256")

    @property
    def layers_dir(self) -> Path:
        return _path(f"{self.path}/layers")

    @property
    def images_dir(self) -> Path:
        return _path(f"{self.path}/images")

    @property
    def snapshots_dir(self) -> Path:
        return _path(f"{self.path}/snapshots")

    @property
    def tmp_dir(self) -> Path:
        return _path(f"{self.path}/tmp")

    @property
    def names_path(self) -> Path:
        return _path(f"{self.path}/names.json")

    # ------------------------------------------------------------ locks

    def _lock_file(self, name: str) -> int:
        try:
            return os.open(f"{self.path}/{name}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise HostError(f"cannot lock the store at {self.path}: {exc.strerror}") from exc

    def locked(self, name: str, exclusive: bool = True, wait: bool = True) -> Flock:
        """flock ``<root>/<name>``; ``with`` gives False (holding nothing) if busy and not
        ``wait``."""
        return Flock(self, name, exclusive, wait)

    def shared(self) -> SharedLock:
        """store.lock shared, as every operation holds it (through the gate).

        Re-entrant within a process (an operation that makes a snapshot, say,
        or collects): flock conflicts between two descriptors of one process,
        so a second acquisition would wait for ourselves behind a waiting check.
        """
        return SharedLock(self)

    def exclusive(self) -> ExclusiveLock:
        """store.lock exclusive: no operation runs. The gate keeps new ones out meanwhile."""
        return ExclusiveLock(self)

    def operation(self) -> OperationScope:
        """A running operation: see operations.py."""
        from .operations import begin

        return begin(self)

    # ------------------------------------------------------------ blobs

    def blob_path(self, digest: str) -> Path:
        return self.blobs_dir / hex_of(digest)

    def has_blob(self, digest: str) -> bool:
        try:
            return self.blob_path(digest).is_file()
        except NotFound:
            return False

    def read_blob(self, digest: str) -> bytes:
        try:
            return self.blob_path(digest).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the store") from None

    def open_blob(self, digest: str) -> IO[bytes]:
        try:
            return open(self.blob_path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the store") from None

    def blob_digests(self) -> set[str]:
        return {f"sha256:{e.name}" for e in os.scandir(self.blobs_dir) if len(e.name) == 64}


class Flock:
    """``with``: `Store.locked`, an flock on ``<root>/<name>`` held by a descriptor of its
    own (closed at the end, which drops the lock)."""

    __slots__ = ("_exclusive", "_name", "_store", "_wait", "fd")

    def __init__(self, store: Store, name: str, exclusive: bool, wait: bool) -> None:
        self._store = store
        self._name = name
        self._exclusive = exclusive
        self._wait = wait
        self.fd = -1

    def __enter__(self) -> bool:
        self.fd = self._store._lock_file(self._name)
        flags = fcntl.LOCK_EX if self._exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(self.fd, flags | (0 if self._wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        except BaseException:
            os.close(self.fd)
            raise
        return True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        os.close(self.fd)


class SharedLock:
    """``with``: `Store.shared`."""

    __slots__ = ("_fd", "_key", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._key = store.path
        self._fd = -1  # held by this block; -1: an outer block of ours holds it

    def __enter__(self) -> None:
        key = self._key
        if _held.get(key):
            _held[key] += 1
            return
        with self._store.locked(GATE_LOCK, exclusive=False):
            fd = self._store._lock_file(STORE_LOCK)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
            except BaseException:
                os.close(fd)
                raise
        self._fd = fd
        _held[key] = 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd < 0:
            _held[self._key] -= 1
            return
        _held[self._key] = 0
        os.close(self._fd)
        self._fd = -1


class ExclusiveLock:
    """``with``: `Store.exclusive`."""

    __slots__ = ("_gate", "_lock", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._gate: Flock | None = None
        self._lock: Flock | None = None

    def __enter__(self) -> None:
        key = self._store.path
        if _held.get(key):
            raise HostError("the store lock cannot be taken exclusively inside an operation")
        gate = self._store.locked(GATE_LOCK)
        gate.__enter__()
        try:
            lock = self._store.locked(STORE_LOCK)
            lock.__enter__()
        except BaseException:
            gate.__exit__(None, None, None)
            raise
        self._gate, self._lock = gate, lock
        _held[key] = 1  # operations begun meanwhile (our own) need no other lock

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _held[self._store.path] = 0
        assert self._gate is not None and self._lock is not None
        try:
            self._lock.__exit__(None, None, None)
        finally:
            self._gate.__exit__(None, None, None)


def _path(path: str) -> Path:
    from pathlib import Path

    return Path(path)


def _make_dirs(path: str) -> None:
    """mkdir -p, the last one 0700: one mkdir(2) when it exists already."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, 0o700, exist_ok=True)


def copy_stream(source: Readable, fd: int, chunk: int = 1 << 20) -> int:
    total = 0
    while data := source.read(chunk):
        write_all(fd, data)
        total += len(data)
    return total
