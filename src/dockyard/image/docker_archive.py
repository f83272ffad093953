"""docker-archive (``docker save`` tarballs) read and written; saving to OCI layouts.

We write Docker 25's format, which is a docker-archive and an OCI layout at
once: blobs under ``blobs/sha256/``, ``index.json`` and ``oci-layout``, and the
``manifest.json`` Docker and skopeo read, with uncompressed layers (their
digests are the config's diff IDs). ``oci-archive`` and ``oci-dir`` keep the
stored manifest and compressed layers unchanged, so digests survive.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import jsonio
from dockyard.oci.image_spec import (
    ANNOTATION_CONTAINERD_NAME,
    ANNOTATION_REF_NAME,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
)

from .digest import DigestMismatch, Readable, sha256_digest
from .layout import Bundle, BundleWriter, blob_name, write_layout_metadata
from .reference import parse as parse_reference
from .transport import ResolvedImage

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass
class ArchiveEntry:
    config: str
    repo_tags: list[str]
    layers: list[str]


def read_manifest_json(bundle: Bundle) -> list[ArchiveEntry]:
    try:
        doc = jsonio.loads(bundle.read("manifest.json"))
    except jsonio.JSONError as exc:
        raise InvalidArgument(f"{bundle.path}: manifest.json is not JSON: {exc}") from exc
    if not isinstance(doc, list):
        raise InvalidArgument(f"{bundle.path}: manifest.json must be an array")
    entries = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise InvalidArgument(f"{bundle.path}: manifest.json[{i}] has no Config")
        layers = item.get("Layers") or []
        tags = item.get("RepoTags") or []
        if not all(isinstance(x, str) for x in [*layers, *tags]):
            raise InvalidArgument(f"{bundle.path}: manifest.json[{i}]: bad Layers or RepoTags")
        entries.append(ArchiveEntry(item["Config"], list(tags), list(layers)))
    return entries


class DockerArchiveSource:
    """One manifest.json entry as an image source, with a manifest made up for it."""

    def __init__(self, bundle: Bundle, entry: ArchiveEntry) -> None:
        self.bundle = bundle
        self.entry = entry
        self._paths: dict[str, str] = {}

    def names(self) -> list[str]:
        return [str(parse_reference(tag)) for tag in self.entry.repo_tags]

    def resolve(self, wanted: Platform | None) -> ResolvedImage:
        config_raw = self.bundle.read(self.entry.config)
        config = ImageConfig.parse(config_raw)
        config_desc = Descriptor(OCI_CONFIG, sha256_digest(config_raw), len(config_raw))
        self._paths[config_desc.digest] = self.entry.config
        if len(config.diff_ids) != len(self.entry.layers):
            raise InvalidArgument(
                f"{self.bundle.path}: {len(self.entry.layers)} layers but "
                f"{len(config.diff_ids)} diff IDs in {self.entry.config}"
            )
        layers = []
        for path, diff_id in zip(self.entry.layers, config.diff_ids, strict=True):
            with self.bundle.open(path) as f:
                head = f.read(4)
            size = self.bundle.size(path)
            if head.startswith(GZIP_MAGIC) or head.startswith(ZSTD_MAGIC):
                digest = _hash_file(self.bundle, path)
                media_type = OCI_LAYER_GZIP if head.startswith(GZIP_MAGIC) else OCI_LAYER_ZSTD
            else:
                digest, media_type = diff_id, OCI_LAYER  # verified as it is read
            layers.append(Descriptor(media_type, digest, size))
            self._paths[digest] = path
        manifest = Manifest(OCI_MANIFEST, config_desc, layers)
        raw = manifest.to_bytes()
        return ResolvedImage(manifest, raw, sha256_digest(raw))

    def open_blob(self, desc: Descriptor) -> Readable:
        try:
            return self.bundle.open(self._paths[desc.digest])
        except KeyError:
            raise NotFound(f"{desc.digest} is not in the archive") from None


def _hash_file(bundle: Bundle, path: str) -> str:
    h = hashlib.sha256()
    with bundle.open(path) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------- writing


@dataclass
class SaveItem:
    """One image to save: its names and what the store holds for it."""

    names: list[str]  # full references, e.g. docker.io/library/busybox:latest
    manifest_raw: bytes
    manifest_media_type: str
    manifest_digest: str
    manifest: Manifest
    diff_ids: list[str] = field(default_factory=list)


class BlobReader:
    """What saving reads from the store (LocalStore satisfies it)."""

    def __init__(
        self, open_blob: Callable[[str], IO[bytes]], open_diff: Callable[[str], Readable]
    ) -> None:
        self.open_blob = open_blob
        self.open_diff = open_diff


def _annotations(name: str) -> dict[str, str]:
    ref = parse_reference(name)
    annotations = {ANNOTATION_CONTAINERD_NAME: str(ref)}
    if ref.tag:
        annotations[ANNOTATION_REF_NAME] = ref.tag
    return annotations


def _entries(item: SaveItem, desc: Descriptor) -> list[Descriptor]:
    if not item.names:
        return [desc]
    return [
        Descriptor(desc.media_type, desc.digest, desc.size, annotations=_annotations(name))
        for name in item.names
    ]


def save_docker_archive(items: list[SaveItem], blobs: BlobReader, writer: BundleWriter) -> None:
    manifest_json = []
    entries: list[Descriptor] = []
    with tempfile.TemporaryDirectory(prefix="dockyard-save-") as scratch:
        for item in items:
            config_name = blob_name(item.manifest.config.digest)
            with blobs.open_blob(item.manifest.config.digest) as f:
                writer.add_stream(config_name, f, item.manifest.config.size)
            layer_names, layer_descs = [], []
            for layer, diff_id in zip(item.manifest.layers, item.diff_ids, strict=True):
                name = blob_name(diff_id)
                size = _add_diff(writer, blobs, layer.digest, diff_id, name, scratch)
                layer_names.append(name)
                layer_descs.append(Descriptor(OCI_LAYER, diff_id, size))
            config = Descriptor(OCI_CONFIG, item.manifest.config.digest, item.manifest.config.size)
            manifest = Manifest(OCI_MANIFEST, config, layer_descs)
            raw = manifest.to_bytes()
            digest = sha256_digest(raw)
            writer.add_bytes(blob_name(digest), raw)
            entries += _entries(item, Descriptor(OCI_MANIFEST, digest, len(raw)))
            manifest_json.append(
                {
                    "Config": config_name,
                    "RepoTags": [parse_reference(n).familiar for n in item.names],
                    "Layers": layer_names,
                }
            )
        writer.add_bytes("manifest.json", jsonio.dumps(manifest_json).encode())
        write_layout_metadata(writer, entries)


def _add_diff(
    writer: BundleWriter, blobs: BlobReader, blob_digest: str, diff_id: str, name: str, scratch: str
) -> int:
    """Decompress a stored layer to a scratch file (checking its diff ID), then add it."""
    path = os.path.join(scratch, diff_id.partition(":")[2])
    if writer.has(name):
        return os.stat(path).st_size if os.path.exists(path) else 0
    h = hashlib.sha256()
    size = 0
    stream = blobs.open_diff(blob_digest)
    with open(path, "wb") as out:
        while chunk := stream.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if f"sha256:{h.hexdigest()}" != diff_id:
        raise DigestMismatch(f"stored layer {blob_digest} no longer unpacks to {diff_id}")
    with open(path, "rb") as f:
        writer.add_stream(name, f, size)
    return size


def save_oci(
    items: list[SaveItem], blobs: BlobReader, writer: BundleWriter, existing: Index | None = None
) -> None:
    """An OCI layout (directory or archive) with each image's stored manifest, unchanged."""
    entries: list[Descriptor] = []
    for item in items:
        for desc in [item.manifest.config, *item.manifest.layers]:
            if not writer.has(blob_name(desc.digest)):
                with blobs.open_blob(desc.digest) as f:
                    writer.add_stream(blob_name(desc.digest), f, desc.size)
        writer.add_bytes(blob_name(item.manifest_digest), item.manifest_raw)
        desc = Descriptor(item.manifest_media_type, item.manifest_digest, len(item.manifest_raw))
        entries += _entries(item, desc)
    write_layout_metadata(writer, entries, existing)
