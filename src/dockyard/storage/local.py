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

from dockyard.errors import Conflict, NoSpace
from dockyard.oci.image_spec import Descriptor, ImageConfig, Manifest

from .compression import Readable
from .gc import Collected, collect
from .images import ImageRecord, Images
from .layers import Layers, chain_ids
from .snapshots import Snapshots
from .store import DEFAULT_ROOT, Operation, Store
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
        """Write the image record, then point ``tags`` at it."""
        local = self.local
        manifest = image.manifest
        config = ImageConfig.parse(config_raw)
        image_id = manifest.config.digest
        chains = chain_ids(config.diff_ids)
        local.layers.settle_roots(chains)
        size = sum(local.layers.record(c).size for c in chains)
        previous = local.images.get(image_id) if local.images.exists(image_id) else None
        digests = list(previous.repo_digests) if previous else []
        for digest in repo_digests:
            repo = digest.split("@", 1)[0]
            digests = [d for d in digests if d.split("@", 1)[0] != repo] + [digest]
        record = ImageRecord(
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
        local.images.put(record)
        with local.images.editing_names() as names:
            for tag in tags:
                names[tag] = image_id
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

    def layer_dirs(self, record: ImageRecord) -> list[Path]:
        return [self.layers.diff_dir(chain) for chain in record.layers]

    def users(self, image_id: str) -> list[str]:
        """What uses an image (snapshots, later containers): ``rmi`` refuses while any do."""
        return self.snapshots.users_of_image(image_id)

    def remove(self, record: ImageRecord, names: list[str], force: bool, by_id: bool) -> Removal:
        """Untag ``names``; delete the image when no tag is left (or ``by_id`` with force)."""
        result = Removal()
        users = self.users(record.id)
        all_tags = self.images.tags_of(record.id)
        if by_id and len(all_tags) > 1 and not force:
            raise Conflict(
                f"unable to delete {record.short_id} (must be forced) - image is referenced "
                "in multiple repositories"
            )
        with self.images.editing_names() as edit:
            for name in names if not by_id else all_tags:
                if edit.pop(name, None) is not None:
                    result.untagged.append(name)
            left = [n for n, target in edit.items() if target == record.id]
            if not left:
                if users and not force:
                    for name in result.untagged:
                        edit[name] = record.id
                    raise Conflict(
                        f"unable to remove image {record.short_id}: it is in use by "
                        f"{', '.join(users)}; remove those first or use -f"
                    )
                self.images.delete_record(record.id)
                result.deleted.append(record.id)
        if result.deleted:
            result.collected = collect(self.store)
        return result

    def gc(self) -> Collected:
        return collect(self.store)
