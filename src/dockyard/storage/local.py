"""The store as the rest of Dockyard uses it: one object over blobs, layers, images, snapshots.

`LocalStore` satisfies ``image.transport.ImageStore`` (the copy pipeline's
view of a store) without importing it: L2 packages do not import each other.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from dockyard.errors import Conflict, NoSpace, NotFound
from dockyard.oci.image_spec import Descriptor, ImageConfig, Manifest

from .compression import Readable
from .gc import Collected, collect, image_blobs
from .images import ImageRecord, Images
from .layers import Layers, chain_ids
from .operations import Operation, mark_pending
from .snapshots import Snapshots
from .store import DEFAULT_ROOT, Damaged, Store
from .unpack import Limits


class ResolvedLike(Protocol):
    """image.transport.ResolvedImage, as far as the store reads it."""

    @property
    def manifest(self) -> Manifest: ...

    @property
    def manifest_digest(self) -> str: ...

    @property
    def index_digest(self) -> str: ...


@contextmanager
def disk_errors(root: Path, doing: str) -> Iterator[None]:
    """A full filesystem as one `NoSpace` line (retrying cannot help), as Podman says it."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise NoSpace(
            f"{doing}: no space left on device (the store at {root}); "
            "free some space, e.g. with 'dockyard image prune -a', and try again"
        ) from exc


class Ingest:
    """One store operation that adds blobs, layers and finally an image."""

    def __init__(self, local: LocalStore, op: Operation) -> None:
        self.local = local
        self.op = op

    def put_blob(self, digest: str, data: bytes) -> None:
        self.op.put_blob(digest, data)

    def layer(
        self,
        desc: Descriptor,
        diff_id: str,
        chain_id: str,
        parent: str,
        fetch: Callable[[], Readable],
        on_read: Callable[[int], None] | None = None,
        on_extract: Callable[[], None] | None = None,
    ) -> str:
        with disk_errors(self.local.root, f"writing layer {desc.digest}"):
            return self.local.layers.ingest(
                self.op, desc, diff_id, chain_id, parent, fetch, on_read, on_extract
            )

    def commit(
        self, image: ResolvedLike, config_raw: bytes, tags: list[str], repo_digests: list[str]
    ) -> str:
        """Write the image record, then point ``tags`` at it (one transaction)."""
        local = self.local
        manifest = image.manifest
        config = ImageConfig.parse(config_raw)
        image_id = manifest.config.digest
        chains = chain_ids(config.diff_ids)
        local.layers.settle_roots(chains)
        size = sum(local.layers.record(c).size for c in chains)
        with local.images.transaction() as tx:
            try:
                previous = tx.get(image_id)
            except (NotFound, Damaged):
                previous = None  # a damaged record is replaced by this good one
            if previous is not None and previous.manifest_digest != image.manifest_digest:
                mark_pending(local.store)  # the old manifest's blobs: collected when we end
            digests = list(previous.repo_digests) if previous else []
            for digest in repo_digests:
                repo = digest.split("@", 1)[0]
                digests = [d for d in digests if d.split("@", 1)[0] != repo] + [digest]
            tx.put(
                ImageRecord(
                    id=image_id,
                    manifest_digest=image.manifest_digest,
                    manifest_media_type=manifest.media_type,
                    layers=chains,
                    repo_digests=digests,
                    index_digest=image.index_digest,
                    created=config.created,
                    size=size,
                    platform=str(config.platform),
                )
            )
            for tag in tags:
                tx.names[tag] = image_id
        return image_id


@dataclass
class Removal:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    collected: Collected | None = None


class LocalStore:
    def __init__(
        self,
        root: str | os.PathLike[str] = DEFAULT_ROOT,
        limits: Limits | None = None,
        driver: str | None = None,
    ) -> None:
        self.store = Store(root)
        self.layers = Layers(self.store, limits)
        self.images = Images(self.store)
        self.snapshots = Snapshots(self.store, driver)

    @property
    def root(self) -> Path:
        return self.store.root

    def has_blob(self, digest: str) -> bool:
        return self.store.has_blob(digest)

    def read_blob(self, digest: str) -> bytes:
        return self.store.read_blob(digest)

    def open_blob(self, digest: str) -> IO[bytes]:
        return self.store.open_blob(digest)

    @contextmanager
    def ingest(self) -> Iterator[Ingest]:
        with disk_errors(self.root, "writing to the store"), self.store.operation() as op:
            yield Ingest(self, op)

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private directory inside the store, for work bound for it (an archive read
        from a pipe, say): removed at the end, or by the next operation if we die."""
        with disk_errors(self.root, "writing to the store"), self.store.operation() as op:
            yield op.dir

    @contextmanager
    def using(self, *records: ImageRecord) -> Iterator[Operation]:
        """An operation that leases images' layers and blobs while it reads them
        (push, save): ``rmi`` meanwhile removes the records, not what is read."""
        with disk_errors(self.root, "writing to the store"), self.store.operation() as op:
            for record in records:
                op.lease(layers=record.layers, blobs=image_blobs(self.images, record))
            for record in records:
                if not self.images.exists(record.id):
                    raise NotFound(f"no such image: {record.short_id} (removed meanwhile)")
            yield op

    def layer_dirs(self, record: ImageRecord) -> list[Path]:
        return [self.layers.diff_dir(chain) for chain in record.layers]

    def users(self, image_id: str) -> list[str]:
        """What uses an image (snapshots, later containers): ``rmi`` refuses while any do."""
        return self.snapshots.users_of_image(image_id)

    def remove(self, record: ImageRecord, names: list[str], force: bool, by_id: bool) -> Removal:
        """Untag ``names``; delete the image when no tag is left (or ``by_id`` with force).

        Decided and done under records.lock, so that a tag, a pull or a snapshot
        made meanwhile is seen; then what nothing uses any more is collected.
        """
        result = Removal()
        # One operation from the record's removal to the collection: system check,
        # which waits for operations, never sees the layers between the two.
        with self.store.operation() as op:
            with self.images.transaction() as tx:
                if not tx.exists(record.id):
                    raise NotFound(f"no such image: {record.short_id}")
                all_tags = tx.tags_of(record.id)
                if by_id and len(all_tags) > 1 and not force:
                    raise Conflict(
                        f"unable to delete {record.short_id} (must be forced) - image is "
                        "referenced in multiple repositories"
                    )
                for name in names if not by_id else all_tags:
                    if tx.names.pop(name, None) is not None:
                        result.untagged.append(name)
                if not tx.tags_of(record.id):
                    users = self.users(record.id)
                    if users and not force:
                        raise Conflict(  # leaves the block: the untagging is not written
                            f"unable to remove image {record.short_id}: it is in use by "
                            f"{', '.join(users)}; remove those first or use -f"
                        )
                    tx.delete(record.id)
                    result.deleted.append(record.id)
            if result.deleted:
                result.collected = collect(self.store, op)
        return result

    def remove_repo_digest(self, record: ImageRecord, name: str) -> bool:
        """Drop the repo digest ``name`` from an image; True if no tag names it any more."""
        with self.images.transaction() as tx:
            current = tx.get(record.id)
            current.repo_digests = [d for d in current.repo_digests if d != name]
            tx.put(current)
            record.repo_digests = current.repo_digests
            return not tx.tags_of(record.id)

    def add_repo_digest(self, image_id: str, repository: str, digest: str) -> None:
        """Record that ``repository`` holds the image as ``digest`` (after a push)."""
        with self.images.transaction() as tx:
            try:
                record = tx.get(image_id)
            except NotFound:
                return  # removed while it was pushed: nothing to record
            kept = [d for d in record.repo_digests if d.split("@", 1)[0] != repository]
            record.repo_digests = [*kept, f"{repository}@{digest}"]
            tx.put(record)

    def prune(
        self, all_images: bool, wanted: Callable[[ImageRecord], bool] | None = None
    ) -> tuple[list[ImageRecord], dict[str, list[str]], Collected]:
        """Delete dangling images (every unused one with ``all_images``) that ``wanted``
        accepts (the caller's filters and users), then collect.

        Returns the images deleted, the tags removed with each, and what was collected.
        """
        deleted: list[ImageRecord] = []
        untagged: dict[str, list[str]] = {}
        with self.store.operation() as op:
            with self.images.transaction() as tx:
                for record in self.images.all():
                    tags = tx.tags_of(record.id)
                    if self.users(record.id) or (wanted is not None and not wanted(record)):
                        continue
                    if all_images or (not tags and not record.repo_digests):
                        for tag in tags:
                            del tx.names[tag]
                        tx.delete(record.id)
                        deleted.append(record)
                        untagged[record.id] = tags
            return deleted, untagged, collect(self.store, op)

    def gc(self) -> Collected:
        return collect(self.store)
