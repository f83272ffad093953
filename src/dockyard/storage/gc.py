"""Reference counts, garbage collection and ``system check``.

Counts are derived, never stored: a layer's count is the number of images and
snapshots whose chain holds it, a blob's the number of images whose manifest,
config or index names it. A derived count cannot drift after a crash; the
store is small enough that reading every record is cheap.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from dockyard.errors import DockyardError
from dockyard.oci.image_spec import Manifest

from .images import ImageRecord, Images
from .layers import Layers
from .snapshots import Snapshots
from .store import Operation, Store


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
    layers: list[str] = field(default_factory=list)
    blobs: list[str] = field(default_factory=list)
    busy: bool = False


def collect(store: Store) -> Collected:
    """Remove layers and blobs nothing refers to; skipped (busy) while another operation runs."""
    done = Collected()
    with store.locked("store.lock", exclusive=True, wait=False) as held:
        if not held:
            done.busy = True
            return done
        store.clean_tmp()
        refs = count_refs(store)
        layers = Layers(store)
        with _private_op(store) as op:
            for chain_id in layers.all():
                if refs.layers[chain_id] == 0:
                    layers.remove(op, chain_id)
                    done.layers.append(chain_id)
            for digest in store.blob_digests():
                if refs.blobs[digest] == 0:
                    store.blob_path(digest).unlink(missing_ok=True)
                    done.blobs.append(digest)
    return done


def _private_op(store: Store) -> _OpContext:
    return _OpContext(store)


class _OpContext:
    """An operation directory taken while the exclusive lock is already held."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Operation:
        import fcntl
        import os
        import secrets

        name = f"gc-{os.getpid()}-{secrets.token_hex(4)}"
        fd = os.open(
            self.store.tmp_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
        )
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.op = Operation(self.store, name, fd)
        self.op.dir.mkdir()
        return self.op

    def __exit__(self, *exc: object) -> None:
        self.op.close()


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def _blob_ok(store: Store, digest: str) -> bool:
    h = hashlib.sha256()
    try:
        with store.open_blob(digest) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except DockyardError:
        return False
    return f"sha256:{h.hexdigest()}" == digest


def check(store: Store, repair: bool = True, verify_blobs: bool = True) -> CheckReport:
    """Verify records, layers, blobs and tags; with ``repair`` fix what can be fixed.

    Broken images (a missing or corrupt manifest, config or layer) are removed
    with their tags: pull them again. Then unreferenced layers and blobs go.
    """
    report = CheckReport()
    images, layers = Images(store), Layers(store)
    with store.locked("store.lock", exclusive=True, wait=True):
        stale = store.clean_tmp(dry_run=not repair)
        what = "removed the" if repair else "found"
        lines = [f"{what} leftovers of an interrupted operation: {n}" for n in stale]
        if repair:
            report.repaired += lines
        else:
            report.problems += lines
        bad_blobs = set()
        if verify_blobs:
            for digest in sorted(store.blob_digests()):
                if not _blob_ok(store, digest):
                    report.problems.append(f"blob {digest}: content does not match its digest")
                    bad_blobs.add(digest)
                    if repair:
                        store.blob_path(digest).unlink(missing_ok=True)
        broken: list[ImageRecord] = []
        for record in images.all():
            why = _image_problem(store, images, layers, record, bad_blobs)
            if why:
                report.problems.append(f"image {record.short_id}: {why}")
                broken.append(record)
        names = images.names()
        dangling_tags = [n for n, target in names.items() if not images.exists(target)]
        for name in dangling_tags:
            report.problems.append(f"tag {name}: points at a missing image {names[name]}")
        if repair:
            for record in broken:
                images.delete_record(record.id)
                report.repaired.append(f"removed the broken image {record.short_id}")
            gone = {r.id for r in broken}
            with images.editing_names() as edit:
                for name in list(edit):
                    if edit[name] in gone or not images.exists(edit[name]):
                        del edit[name]
                        report.repaired.append(f"removed the tag {name}")
    if repair:
        collected = collect(store)
        report.repaired += [f"removed the unused layer {c}" for c in collected.layers]
        report.repaired += [f"removed the unused blob {b}" for b in collected.blobs]
    return report


def _image_problem(
    store: Store, images: Images, layers: Layers, record: ImageRecord, bad_blobs: set[str]
) -> str:
    for digest in (record.manifest_digest, record.id):
        if digest in bad_blobs or not store.has_blob(digest):
            return f"blob {digest} is missing or corrupt"
    try:
        manifest = images.manifest(record)
        config = images.config(record)
    except DockyardError as exc:
        return str(exc)
    if not isinstance(manifest, Manifest) or manifest.config.digest != record.id:
        return "its manifest names another config"
    if len(config.diff_ids) != len(record.layers):
        return "its layers do not match its config"
    for chain_id in record.layers:
        if not layers.has(chain_id):
            return f"layer {chain_id} is missing"
    for layer in manifest.layers:
        if layer.digest in bad_blobs or not store.has_blob(layer.digest):
            return f"layer blob {layer.digest} is missing or corrupt"
    return ""
