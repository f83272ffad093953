"""The local image store: its directory, its locks and its content-addressed blobs.

    <root>/blobs/sha256/<hex>     manifests, configs, compressed layers; named by digest
    <root>/layers/<chain hex>/    diff/ (the unpacked layer) and layer.json
    <root>/images/<id hex>.json   one record per image (id = config digest)
    <root>/names.json             tags: "docker.io/library/busybox:latest" -> image id
    <root>/snapshots/<id>/        containers' root filesystems (see snapshots.py)
    <root>/tmp/<op>/              one private directory per running operation

Crash safety comes from one rule: everything is built in the operation's
private directory and moved into place with rename(2), the commit point; a
layer directory is complete before it is renamed, an image record is written
after all its layers and blobs exist, and tags after the record. An operation
holds an flock on ``tmp/<op>.lock`` while it runs, so the next command can
tell a dead operation's directory from a live one and remove it.
Garbage collection (removing layers and blobs no image uses) takes the store
lock exclusively; operations hold it shared.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from dockyard.errors import HostError, NotFound
from dockyard.oci import jsonio

from .compression import Readable

DEFAULT_ROOT = "/var/lib/dockyard"


def hex_of(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64:
        raise NotFound(f"{digest!r} is not a sha256 digest")
    return hexpart


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, (jsonio.dumps(value, indent=2) + "\n").encode())


def read_json(path: Path) -> Any:
    return jsonio.loads(path.read_bytes())


def remove_tree(path: Path) -> None:
    """rm -rf, also of read-only directories a layer may hold."""

    def retry(function: Any, target: str, _exc: object) -> None:
        try:
            os.chmod(os.path.dirname(target), 0o700)
            function(target)
        except FileNotFoundError:
            pass

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=retry)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


class Operation:
    """A running operation's private directory; its lock proves it is alive."""

    def __init__(self, store: Store, name: str, lock_fd: int) -> None:
        self.store = store
        self.name = name
        self.dir = store.tmp_dir / name
        self._lock_fd = lock_fd

    def temp_path(self, name: str) -> Path:
        return self.dir / f"{name}.{secrets.token_hex(4)}"

    def put_blob(self, digest: str, data: bytes) -> None:
        """Store small content (a manifest, a config) already verified by the caller."""
        if self.store.has_blob(digest):
            return
        tmp = self.temp_path("blob")
        tmp.write_bytes(data)
        os.rename(tmp, self.store.blob_path(digest))

    def commit_blob(self, tmp: Path, digest: str) -> None:
        os.rename(tmp, self.store.blob_path(digest))

    def close(self) -> None:
        remove_tree(self.dir)
        try:
            (self.store.tmp_dir / f"{self.name}.lock").unlink()
        except FileNotFoundError:
            pass
        os.close(self._lock_fd)


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
        return os.open(self.root / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

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
    def operation(self) -> Iterator[Operation]:
        """A private temp dir, the shared store lock, and a clean-up of dead operations."""
        with self.locked("store.lock", exclusive=False):
            self.clean_tmp()
            name = f"op-{os.getpid()}-{secrets.token_hex(6)}"
            # Lock under a temporary name, then rename: a lock file seen under its
            # final name is always held by a live operation or a dead one, never
            # by one about to take it.
            pending = self.tmp_dir / f".{name}.pending"
            fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(pending, self.tmp_dir / f"{name}.lock")
            op = Operation(self, name, fd)
            op.dir.mkdir()
            try:
                yield op
            finally:
                op.close()

    def clean_tmp(self, dry_run: bool = False) -> list[str]:
        """Remove what dead operations left in tmp/; the names removed (or found)."""
        removed: list[str] = []
        try:
            entries = list(os.scandir(self.tmp_dir))
        except FileNotFoundError:
            return removed
        live = set()
        for entry in entries:
            if not entry.name.endswith(".lock"):
                continue
            name = entry.name.removesuffix(".lock")
            try:
                fd = os.open(entry.path, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                live.add(name)
                continue
            finally:
                os.close(fd)
            if not dry_run:
                remove_tree(self.tmp_dir / name)
                os.unlink(entry.path)
            removed.append(name)
        for entry in entries:
            if entry.name.endswith(".lock") or entry.name.removesuffix(".lock") in live:
                continue
            if entry.name.endswith(".pending"):
                try:
                    fd = os.open(entry.path, os.O_RDWR | os.O_CLOEXEC)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    finally:
                        os.close(fd)
                except (BlockingIOError, FileNotFoundError):
                    continue
            if entry.name in removed:
                continue
            if entry.name not in live and not (self.tmp_dir / f"{entry.name}.lock").exists():
                if not dry_run:
                    remove_tree(Path(entry.path))
                removed.append(entry.name)
        return removed

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
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        total += len(data)
    return total
