"""Image records and the names (tags) that point at them.

An image's ID is its config digest, as Docker's is. Its record holds the
manifest it came with (stored as a blob, with its digest, so it can be
pushed or saved unchanged), its layers' chain IDs and its repo digests. Tags
live in names.json. A record is written before any tag points at it.

Every change to records and names is a read-modify-write inside
`Images.transaction`, under records.lock, so that concurrent commands lose no
update: a push adding a repo digest, a pull rewriting the same record, an
``rmi`` that checks, under the same lock, that no tag and no snapshot is
left. Readers take no lock (records are replaced by rename) and put up with
damage: a damaged record or names.json (what a power cut could leave before
the store fsynced) is skipped and reported by `damaged`, for ``system check``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci.image_spec import ImageConfig, Manifest, parse_manifest

from .store import RECORDS_LOCK, Damaged, Store, fsync_dir, hex_of, read_json, write_json


@dataclass
class ImageRecord:
    id: str
    manifest_digest: str
    manifest_media_type: str
    layers: list[str]  # chain IDs, base first
    repo_digests: list[str] = field(default_factory=list)
    index_digest: str = ""
    created: str = ""
    size: int = 0
    platform: str = ""
    added: float = 0.0

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


def _record(path: Path, raw: object) -> ImageRecord:
    try:
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        record = ImageRecord(**raw)
        if not isinstance(record.layers, list) or not isinstance(record.repo_digests, list):
            raise TypeError("layers or repo_digests is not a list")
    except TypeError as exc:
        raise Damaged(path, str(exc)) from None
    return record


class Images:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ records

    def path(self, image_id: str) -> Path:
        return self.store.images_dir / f"{hex_of(image_id)}.json"

    def get(self, image_id: str) -> ImageRecord:
        """The record; `NotFound`, or `Damaged` if it cannot be read."""
        path = self.path(image_id)
        try:
            return _record(path, read_json(path))
        except FileNotFoundError:
            raise NotFound(f"no such image: {image_id}") from None

    def exists(self, image_id: str) -> bool:
        try:
            return bool(self.path(image_id).is_file())
        except NotFound:
            return False

    def _record_paths(self) -> list[Path]:
        return [
            Path(e.path)
            for e in os.scandir(self.store.images_dir)
            if e.name.endswith(".json") and len(e.name) == 69
        ]

    def all(self) -> list[ImageRecord]:
        """Every readable record (damaged ones are left to `damaged`)."""
        records = []
        for path in self._record_paths():
            try:
                records.append(_record(path, read_json(path)))
            except (FileNotFoundError, Damaged):
                continue  # removed meanwhile, or for system check to repair
        return records

    def damaged(self) -> list[Damaged]:
        """The image records, and names.json, that cannot be read."""
        found = []
        for path in self._record_paths():
            try:
                _record(path, read_json(path))
            except FileNotFoundError:
                continue
            except Damaged as exc:
                found.append(exc)
        try:
            self._read_names()
        except Damaged as exc:
            found.append(exc)
        return found

    def manifest(self, record: ImageRecord) -> Manifest:
        parsed = parse_manifest(
            self.store.read_blob(record.manifest_digest), record.manifest_media_type
        )
        if not isinstance(parsed, Manifest):
            raise InvalidArgument(f"image {record.id}: its manifest is an index")
        return parsed

    def config(self, record: ImageRecord) -> ImageConfig:
        return ImageConfig.parse(self.store.read_blob(record.id))

    # ------------------------------------------------------------ names

    def _read_names(self) -> dict[str, str]:
        path = self.store.names_path
        try:
            raw = read_json(path)
        except FileNotFoundError:
            return {}
        if not isinstance(raw, dict) or not isinstance(raw.get("tags", {}), dict):
            raise Damaged(path, "not a tags object")
        tags = raw.get("tags", {})
        return {k: v for k, v in tags.items() if isinstance(k, str) and isinstance(v, str)}

    def names(self) -> dict[str, str]:
        """Tags; none if names.json is damaged (``system check`` says so and repairs it)."""
        try:
            return self._read_names()
        except Damaged:
            return {}

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Read-modify-write records and names under records.lock.

        Changes to names are written when the block ends without an error;
        records are written (and deleted) at once, each by an atomic rename.
        A damaged names.json is refused: ``system check`` repairs it first.
        Deleted records go last, after names.json is written.
        """
        with self.store.locked(RECORDS_LOCK):
            tx = Transaction(self, self._read_names())
            before = dict(tx.names)
            yield tx
            if tx.names != before:
                write_json(self.store.names_path, {"tags": dict(sorted(tx.names.items()))})
            if tx.deleted:  # after the tags that named them are gone: no dangling tag
                for image_id in tx.deleted:
                    try:
                        self.path(image_id).unlink()
                    except FileNotFoundError:
                        pass
                fsync_dir(self.store.images_dir)

    def tag(self, name: str, image_id: str) -> None:
        with self.transaction() as tx:
            if not self.exists(image_id):  # under the lock: rmi cannot slip in between
                raise NotFound(f"no such image: {image_id}")
            tx.names[name] = image_id

    def untag(self, name: str) -> str:
        with self.transaction() as tx:
            try:
                return tx.names.pop(name)
            except KeyError:
                raise NotFound(f"no such image: {name}") from None

    def tags_of(self, image_id: str, names: dict[str, str] | None = None) -> list[str]:
        names = self.names() if names is None else names
        return sorted(name for name, target in names.items() if target == image_id)

    # ------------------------------------------------------------ lookup

    def resolve(self, text: str, full_name: str | None = None) -> ImageRecord:
        """An image by full name (``docker.io/library/busybox:latest``), repo digest or ID.

        ``full_name`` is ``text`` normalised by the caller (the reference parser
        lives a layer up); IDs may be short (``sha256:abc``, ``abc123``).
        """
        names = self.names()
        if full_name is not None:
            if full_name in names:
                return self.get(names[full_name])
            if "@" in full_name:
                for record in self.all():
                    if full_name in record.repo_digests:
                        return record
        hexpart = text.removeprefix("sha256:")
        if hexpart and len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart):
            matches = [
                e.name[:-5]
                for e in os.scandir(self.store.images_dir)
                if e.name.endswith(".json") and e.name.startswith(hexpart)
            ]
            if len(matches) == 1:
                return self.get(f"sha256:{matches[0]}")
            if len(matches) > 1:
                raise Conflict(f"{text!r} matches {len(matches)} images; give more of the ID")
        raise NotFound(f"no such image: {text}")


class Transaction:
    """Records and names as one command sees and changes them, under records.lock."""

    def __init__(self, images: Images, names: dict[str, str]) -> None:
        self.images = images
        self.names = names
        self.deleted: list[str] = []  # removed when the transaction ends

    def get(self, image_id: str) -> ImageRecord:
        if image_id in self.deleted:
            raise NotFound(f"no such image: {image_id}")
        return self.images.get(image_id)

    def exists(self, image_id: str) -> bool:
        return image_id not in self.deleted and self.images.exists(image_id)

    def put(self, record: ImageRecord) -> None:
        if not record.added:
            record.added = time.time()
        if record.id in self.deleted:
            self.deleted.remove(record.id)
        write_json(self.images.path(record.id), asdict(record))

    def delete(self, image_id: str) -> None:
        if image_id not in self.deleted:
            self.deleted.append(image_id)

    def tags_of(self, image_id: str) -> list[str]:
        return self.images.tags_of(image_id, self.names)
