"""Reference counts and garbage collection.

Counts are derived, never stored: a layer's count is the number of images and
snapshots whose chain holds it, a blob's the number of images whose manifest,
config or index names it. A derived count cannot drift after a crash; the
store is small enough that reading every record is cheap.

Collection runs under gc.lock, beside running operations, not instead of
them: what a live operation leases (operations.py) stays, and is said to be
deferred; ``gc.pending`` then tells the operations that end later to collect
again, so the removal finishes when the last lease on it goes. What is removed
is renamed into the collector's operation directory under the lock (a quick
rename per layer) and deleted after it, so pulls wait for no ``rm -rf``. While
any image or snapshot record is damaged, nothing is collected: what that
record refers to is unknown (``system check`` repairs it first).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from dockyard.errors import DockyardError

from .images import ImageRecord, Images
from .layers import Layers
from .operations import Operation, begin, live_leases, mark_pending
from .snapshots import Snapshots
from .store import GC_LOCK, Store


@dataclass
class Refs:
    layers: Counter[str] = field(default_factory=Counter)
    blobs: Counter[str] = field(default_factory=Counter)


def image_blobs(images: Images, record: ImageRecord) -> list[str]:
    blobs = [record.manifest_digest, record.id]
    if record.index_digest:
        blobs.append(record.index_digest)
    try:
        manifest = images.manifest(record)
    except DockyardError:
        return blobs
    return blobs + [layer.digest for layer in manifest.layers]


def count_refs(store: Store) -> Refs:
    images, refs = Images(store), Refs()
    for record in images.all():
        refs.layers.update(record.layers)
        refs.blobs.update(image_blobs(images, record))
    for snapshot in Snapshots(store).all():
        refs.layers.update(snapshot.layers)
    return refs


@dataclass
class Collected:
    layers: list[str] = field(default_factory=list)  # removed (or, dry run, removable)
    blobs: list[str] = field(default_factory=list)
    freed: int = 0  # bytes: the layers' unpacked size plus the blobs' size
    deferred_layers: list[str] = field(default_factory=list)  # unused but leased
    deferred_blobs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # damaged records: nothing collected

    @property
    def deferred(self) -> bool:
        return bool(self.deferred_layers or self.deferred_blobs)


def collect(store: Store, op: Operation | None = None, dry_run: bool = False) -> Collected:
    """Remove layers and blobs nothing refers to and no live operation leases."""
    if op is None:
        with begin(store, collect_after=False) as own:
            return collect(store, own, dry_run)
    done = Collected()
    images, layers, snapshots = Images(store), Layers(store), Snapshots(store)
    with store.locked(GC_LOCK):
        damaged = [str(d.path) for d in images.damaged()] + snapshots.damaged()
        if damaged:
            done.blocked = damaged
            return done
        refs = count_refs(store)
        leased_layers, leased_blobs = live_leases(store)
        for chain_id in sorted(layers.all()):
            if refs.layers[chain_id]:
                continue
            if chain_id in leased_layers:
                done.deferred_layers.append(chain_id)
                continue
            done.freed += layers.size(chain_id) if dry_run else layers.remove(op, chain_id)
            done.layers.append(chain_id)
        for digest in sorted(store.blob_digests()):
            if refs.blobs[digest]:
                continue
            if digest in leased_blobs:
                done.deferred_blobs.append(digest)
                continue
            path = store.blob_path(digest)
            try:
                done.freed += path.stat().st_size
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:
                continue
            done.blobs.append(digest)
        if not dry_run:
            mark_pending(store, done.deferred)
    return done
