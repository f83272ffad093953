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
from contextlib import contextmanager
from pathlib import Path

from dockyard.errors import HostError, NoSpace, NotFound
from dockyard.oci import jsonio

# typing, secrets, shutil and compression (hashlib, zlib) stay out of the
# import: a container start goes through this module, and they cost more
# than its work there (see engine/bundle.py and docs/performance.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

    from .compression import Readable
    from .operations import Operation

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


def fsync_dir(path: Path) -> None:
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


def write_new_json(path: Path, value: Any, sync: bool = True) -> None:
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
        raise write_error(str(path), exc) from exc


def read_json(path: Path) -> Any:
    """The JSON in ``path``; FileNotFoundError if missing, `Damaged` if unreadable."""
    data = path.read_bytes()
    try:
        return jsonio.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Damaged(path, "empty" if not data.strip() else str(exc)) from None


class Damaged(HostError):
    """A record that is not what the store writes: empty, truncated or garbled."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path} is damaged ({why}); run 'dockyard system check'")
        self.path = path
        self.why = why


def remove_tree(path: Path) -> None:
    """rm -rf, also of read-only directories a layer may hold; what is gone already is fine."""

    def retry(function: Any, target: str, exc: BaseException | tuple[Any, ...]) -> None:
        error = exc[1] if isinstance(exc, tuple) else exc
        if isinstance(error, FileNotFoundError):
            return
        try:
            os.chmod(os.path.dirname(target), 0o700)
            function(target)
        except FileNotFoundError:
            pass

    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path, onerror=retry)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class Store:
    def __init__(self, root: str | os.PathLike[str] = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        self.blobs_dir = self.root / "blobs" / "sha256"
        self.layers_dir = self.root / "layers"
        self.images_dir = self.root / "images"
        self.snapshots_dir = self.root / "snapshots"
        self.tmp_dir = self.root / "tmp"
        self.names_path = self.root / "names.json"
        try:
            for d in (
                self.blobs_dir,
                self.layers_dir,
                self.images_dir,
                self.snapshots_dir,
                self.tmp_dir,
            ):
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise HostError(f"cannot use the store at {self.root}: {exc}") from exc

    # ------------------------------------------------------------ locks

    def _lock_file(self, name: str) -> int:
        try:
            return os.open(self.root / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise HostError(f"cannot lock the store at {self.root}: {exc.strerror}") from exc

    @contextmanager
    def locked(self, name: str, exclusive: bool = True, wait: bool = True) -> Iterator[bool]:
        """flock ``<root>/<name>``; yields False (holding nothing) if busy and not ``wait``."""
        fd = self._lock_file(name)
        try:
            flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
            try:
                fcntl.flock(fd, flags | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    @contextmanager
    def shared(self) -> Iterator[None]:
        """store.lock shared, as every operation holds it (through the gate).

        Re-entrant within a process (an operation that makes a snapshot, say,
        or collects): flock conflicts between two descriptors of one process,
        so a second acquisition would wait for ourselves behind a waiting check.
        """
        key = str(self.root)
        if _held.get(key):
            _held[key] += 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        with self.locked(GATE_LOCK, exclusive=False):
            fd = self._lock_file(STORE_LOCK)
            fcntl.flock(fd, fcntl.LOCK_SH)
        _held[key] = 1
        try:
            yield
        finally:
            _held[key] = 0
            os.close(fd)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """store.lock exclusive: no operation runs. The gate keeps new ones out meanwhile."""
        key = str(self.root)
        if _held.get(key):
            raise HostError("the store lock cannot be taken exclusively inside an operation")
        with self.locked(GATE_LOCK), self.locked(STORE_LOCK):
            _held[key] = 1  # operations begun meanwhile (our own) need no other lock
            try:
                yield
            finally:
                _held[key] = 0

    @contextmanager
    def operation(self) -> Iterator[Operation]:
        """A running operation: see operations.py."""
        from .operations import begin

        with begin(self) as op:
            yield op

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


def copy_stream(source: Readable, fd: int, chunk: int = 1 << 20) -> int:
    total = 0
    while data := source.read(chunk):
        write_all(fd, data)
        total += len(data)
    return total
