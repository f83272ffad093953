"""Layers: keyed by chain ID, unpacked once, shared by every image that has them.

A layer is ingested from one stream: the compressed bytes are hashed and
written to a blob file while they are decompressed, hashed again (the diff
ID) and unpacked. Only when both digests match are the blob and the layer
directory renamed into the store; a mismatch, a hostile entry or a crash
leaves them in the operation's temp dir, which is removed.

The operation leases the layer and its blob before it looks for them, so that
garbage collection cannot remove what it found (operations.py). Before the
rename that publishes a layer, syncfs(2) puts its whole tree (and the blob
beside it) on disk, one call per layer rather than an fsync per file; the
rename itself is made durable with an fsync of layers/. A layer whose
layer.json cannot be read (a power cut before this was so) is not a layer:
`has` says no, the next pull replaces it, ``system check`` unpacks it again
from its blob.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dockyard.errors import HostError, InvalidArgument, NotFound
from dockyard.linux import libc
from dockyard.oci.image_spec import Descriptor

from .compression import HashingReader, Readable, decompressed
from .links import remove_link
from .operations import Operation
from .store import (
    RECORDS_LOCK,
    Damaged,
    Store,
    fsync_dir,
    hex_of,
    read_json,
    remove_tree,
    write_error,
    write_json,
    write_new_json,
)
from .unpack import RATIO_VARIABLE, HostileLayer, Limits, apply_layer

#: what ingest_layer did: nothing, fetched the blob only, unpacked a local blob, or both
EXISTS, FETCHED_BLOB, UNPACKED, DOWNLOADED = "exists", "fetched-blob", "unpacked", "downloaded"


class LayerDigestMismatch(HostError):
    pass


class LayerTooLarge(InvalidArgument):
    """The layer unpacks to more than its compressed size allows (`Limits.max_ratio`)."""


class _Bounded:
    """Counts what the decompressor gives and stops it past ``limit`` bytes."""

    def __init__(self, source: Readable, limit: int, desc: Descriptor, ratio: float) -> None:
        self.source = source
        self.limit = limit
        self.count = 0
        self.desc = desc
        self.ratio = ratio

    def read(self, amount: int = -1) -> bytes:
        data = self.source.read(amount)
        self.count += len(data)
        if self.count > self.limit:
            raise LayerTooLarge(
                f"layer {self.desc.digest} unpacks to more than {self.limit >> 20} MiB, "
                f"{self.ratio:g} times its {self.desc.size} bytes (a decompression bomb?); "
                f"if you trust the image, raise {RATIO_VARIABLE} (now {self.ratio:g}; 0: no limit)"
            )
        return data


def chain_ids(diff_ids: list[str]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append("sha256:" + hashlib.sha256(text).hexdigest())
    return chains


@dataclass
class LayerRecord:
    chain_id: str
    diff_id: str
    parent: str = ""
    size: int = 0  # bytes of file content, unpacked
    entries: int = 0
    blobs: list[str] = field(default_factory=list)  # compressed forms we hold
    # [mode, uid, gid] of the root if the layer sets it; [] if not; None: not recorded
    root: list[int] | None = None


class _TeeReader:
    """Passes reads through while writing them to ``fd`` and hashing them."""

    def __init__(
        self, source: Readable, fd: int, desc: Descriptor, on_read: Callable[[int], None] | None
    ) -> None:
        self.source = source
        self.fd = fd
        self.desc = desc
        self.count = 0
        self._hash = hashlib.sha256()
        self._on_read = on_read

    def read(self, amount: int = -1) -> bytes:
        data = self.source.read(amount if amount is not None and amount >= 0 else 1 << 20)
        if data:
            self.count += len(data)
            if self.count > self.desc.size:
                raise LayerDigestMismatch(
                    f"layer {self.desc.digest}: more than the {self.desc.size} bytes announced"
                )
            self._hash.update(data)
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            if self._on_read is not None:
                self._on_read(len(data))
        return data

    def verify(self) -> None:
        while self.read(1 << 20):
            pass
        digest = "sha256:" + self._hash.hexdigest()
        if self.count != self.desc.size or digest != self.desc.digest:
            raise LayerDigestMismatch(
                f"layer blob is {digest} ({self.count} bytes), "
                f"expected {self.desc.digest} ({self.desc.size} bytes)"
            )


class Layers:
    def __init__(self, store: Store, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits.from_env()

    def path(self, chain_id: str) -> Path:
        return self.store.layers_dir / hex_of(chain_id)

    def diff_dir(self, chain_id: str) -> Path:
        return self.path(chain_id) / "diff"

    def has(self, chain_id: str) -> bool:
        """True if the layer is complete: its directory holds a readable record."""
        try:
            self.record(chain_id)
        except (NotFound, Damaged):
            return False
        return True

    def record(self, chain_id: str) -> LayerRecord:
        """The layer's record; `NotFound`, or `Damaged` if it cannot be read."""
        path = self.path(chain_id) / "layer.json"
        try:
            raw = read_json(path)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"layer {chain_id} is not in the store") from None
        try:
            if not isinstance(raw, dict):
                raise TypeError("not an object")
            return LayerRecord(**raw)
        except TypeError as exc:
            raise Damaged(path, str(exc)) from None

    def all(self) -> list[str]:
        return [f"sha256:{e.name}" for e in os.scandir(self.store.layers_dir) if len(e.name) == 64]

    def ingest(
        self,
        op: Operation,
        desc: Descriptor,
        diff_id: str,
        chain_id: str,
        parent: str,
        fetch: Callable[[], Readable],
        on_read: Callable[[int], None] | None = None,
        on_extract: Callable[[], None] | None = None,
    ) -> str:
        """Make sure the store has blob ``desc`` and layer ``chain_id``; fetch only what lacks."""
        op.lease(layers=[chain_id], blobs=[desc.digest])
        have_layer = self.has(chain_id)
        have_blob = self.store.has_blob(desc.digest)
        if have_layer and have_blob:
            return EXISTS
        if have_blob:
            with self.store.open_blob(desc.digest) as f:
                self._unpack(op, f, desc, diff_id, chain_id, parent, on_extract)
            return UNPACKED
        tmp_blob = op.temp_path("blob")
        fd = os.open(tmp_blob, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            tee = _TeeReader(fetch(), fd, desc, on_read)
            if have_layer:
                tee.verify()
            else:
                self._unpack(op, tee, desc, diff_id, chain_id, parent, on_extract, tee)
            os.fsync(fd)  # after the layer's syncfs, if any: little left to write
        finally:
            os.close(fd)
        op.commit_blob(tmp_blob, desc.digest)
        if have_layer:
            self._add_blob(chain_id, desc.digest)
            return FETCHED_BLOB
        return DOWNLOADED

    def _unpack(
        self,
        op: Operation,
        source: Readable,
        desc: Descriptor,
        diff_id: str,
        chain_id: str,
        parent: str,
        on_extract: Callable[[], None] | None,
        tee: _TeeReader | None = None,
    ) -> None:
        work = op.temp_path("layer")
        (work / "diff").mkdir(parents=True)
        os.chmod(work / "diff", 0o755)  # not the caller's umask; see settle_roots
        if on_extract is not None:
            on_extract()
        stream, _ = decompressed(source)
        limit = self.limits.unpacked_limit(desc.size)
        if limit is not None:
            stream = _Bounded(stream, limit, desc, self.limits.max_ratio)
        hashing = HashingReader(stream)
        try:
            stats = apply_layer(hashing, str(work / "diff"), self.limits)
            hashing.drain()
        except InvalidArgument as exc:
            # Corrupt data may be the transfer's fault: a blob that is not the one
            # asked for says so (and is fetched again); a hostile one is refused at once.
            if tee is not None and not isinstance(exc, (HostileLayer, LayerTooLarge)):
                tee.verify()
            raise
        if tee is not None:
            tee.verify()  # the compressed digest first: it says who is to blame
        if hashing.digest != diff_id:
            raise LayerDigestMismatch(
                f"layer {desc.digest} unpacks to {hashing.digest}, the config says {diff_id}"
            )
        record = LayerRecord(
            chain_id, diff_id, parent, stats.bytes, stats.entries, [desc.digest], stats.root
        )
        write_new_json(work / "layer.json", asdict(record), sync=False)  # _publish syncs
        self._publish(op, work, chain_id)
        if work.exists():
            remove_tree(work)  # another operation unpacked it first
            self._add_blob(chain_id, desc.digest)

    def settle_roots(self, chains: list[str]) -> None:
        """Give each layer's root its parent's mode and owner unless the layer sets its
        own ("./" in its tar), as containers/storage does when it creates a layer on its
        parent; the top layer's root is then the container's. Done once the image's
        layers are all in, since they unpack in parallel; the same chain always gets
        the same answer, so image commits that share layers agree."""
        mode, uid, gid = 0o755, 0, 0
        for chain in chains:
            record = self.record(chain)
            if record.root is None:
                return  # stored before layers said; left as unpacked
            if record.root:
                mode, uid, gid = record.root
                continue
            diff = self.diff_dir(chain)
            st = os.stat(diff)
            if (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (mode, uid, gid):
                continue
            if os.geteuid() == 0:
                os.chown(diff, uid, gid)
            os.chmod(diff, mode)

    def _publish(self, op: Operation, work: Path, chain_id: str) -> None:
        """Rename a complete layer directory into place, durably; a damaged one is replaced."""
        fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            libc.syncfs(fd)
        except OSError as exc:
            raise write_error(f"layer {chain_id} to disk", exc) from exc
        finally:
            os.close(fd)
        path = self.path(chain_id)
        for _ in range(3):
            try:
                os.rename(work, path)
                fsync_dir(self.store.layers_dir)
                return
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise HostError(f"cannot put layer {chain_id} in place: {exc}") from exc
                if self.has(chain_id):
                    return  # the caller finds work still there and drops it
            # A directory without a readable record: what a crash left. Replace it.
            try:
                os.rename(path, op.temp_path("damaged-layer"))
            except FileNotFoundError:
                pass
        raise HostError(f"cannot put layer {chain_id} in place at {path}")

    def restore(self, op: Operation, chain_id: str, diff_id: str, parent: str, blob: str) -> None:
        """Unpack a layer again from its stored blob (``system check``'s repair)."""
        with self.store.open_blob(blob) as f:
            size = os.fstat(f.fileno()).st_size
            desc = Descriptor("application/vnd.oci.image.layer.v1.tar", blob, size)
            self._unpack(op, f, desc, diff_id, chain_id, parent, None)

    def _add_blob(self, chain_id: str, digest: str) -> None:
        with self.store.locked(RECORDS_LOCK):
            record = self.record(chain_id)
            if digest not in record.blobs:
                record.blobs.append(digest)
                write_json(self.path(chain_id) / "layer.json", asdict(record))

    def open_diff(self, desc_digest: str) -> Readable:
        """The uncompressed tar of a stored layer blob."""
        stream, _ = decompressed(self.store.open_blob(desc_digest))
        return stream

    def size(self, chain_id: str) -> int:
        """The layer's unpacked size; 0 if unknown."""
        try:
            return self.record(chain_id).size
        except (NotFound, Damaged):
            return 0

    def remove(self, op: Operation, chain_id: str) -> int:
        """Move the layer out of sight (the commit point) into ``op``'s directory, where it
        is deleted with the operation; the bytes it held (0 if unknown or gone)."""
        size = self.size(chain_id)
        try:
            os.rename(self.path(chain_id), op.temp_path("dead-layer"))
        except FileNotFoundError:
            return 0
        remove_link(self.store.root, self.diff_dir(chain_id))
        return size
