"""Image records and the names (tags) that point at them.

An image's ID is its config digest, as Docker's is. Its record holds the
manifest it came with (stored as a blob, with its digest, so it can be
pushed or saved unchanged), its layers' chain IDs and its repo digests. Tags
live in names.json, updated under a lock with write-and-rename; a record is
written before any tag points at it.
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

from .store import Store, hex_of, read_json, write_json


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


class Images:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ records

    def _path(self, image_id: str) -> Path:
        return self.store.images_dir / f"{hex_of(image_id)}.json"

    def get(self, image_id: str) -> ImageRecord:
        try:
            raw = read_json(self._path(image_id))
        except FileNotFoundError:
            raise NotFound(f"no such image: {image_id}") from None
        return ImageRecord(**raw)

    def exists(self, image_id: str) -> bool:
        try:
            return bool(self._path(image_id).is_file())
        except NotFound:
            return False

    def all(self) -> list[ImageRecord]:
        records = []
        for entry in os.scandir(self.store.images_dir):
            if entry.name.endswith(".json") and len(entry.name) == 69:
                try:
                    records.append(ImageRecord(**read_json(Path(entry.path))))
                except FileNotFoundError:
                    continue  # removed meanwhile
        return records

    def put(self, record: ImageRecord) -> None:
        if not record.added:
            record.added = time.time()
        write_json(self._path(record.id), asdict(record))

    def delete_record(self, image_id: str) -> None:
        try:
            self._path(image_id).unlink()
        except FileNotFoundError:
            pass

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

    def names(self) -> dict[str, str]:
        try:
            raw = read_json(self.store.names_path)
        except FileNotFoundError:
            return {}
        tags = raw.get("tags", {}) if isinstance(raw, dict) else {}
        return {k: v for k, v in tags.items() if isinstance(k, str) and isinstance(v, str)}

    @contextmanager
    def editing_names(self) -> Iterator[dict[str, str]]:
        """Read-modify-write names.json under its lock."""
        with self.store.locked("names.lock"):
            names = self.names()
            before = dict(names)
            yield names
            if names != before:
                write_json(self.store.names_path, {"tags": dict(sorted(names.items()))})

    def tag(self, name: str, image_id: str) -> None:
        if not self.exists(image_id):
            raise NotFound(f"no such image: {image_id}")
        with self.editing_names() as names:
            names[name] = image_id

    def untag(self, name: str) -> str:
        with self.editing_names() as names:
            try:
                return names.pop(name)
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
