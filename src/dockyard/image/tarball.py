"""A root filesystem tarball as a one-layer image (``import``)."""

from __future__ import annotations

import datetime
import gzip
import hashlib
from typing import IO

from dockyard.errors import Unsupported
from dockyard.oci.image_spec import (
    OCI_CONFIG,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_MANIFEST,
    ContainerConfig,
    Descriptor,
    History,
    ImageConfig,
    Manifest,
    Platform,
)

from .digest import Readable, sha256_digest
from .platform import host_platform
from .transport import ResolvedImage


def _decompressing(f: IO[bytes], head: bytes) -> Readable:
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=f, mode="rb")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        try:
            import zstandard
        except ImportError as exc:
            raise Unsupported("a zstd tarball needs the zstandard package") from exc
        return zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
    return f


class TarballSource:
    """An image source over a tarball file: the layer is the file, as it is."""

    def __init__(
        self,
        path: str,
        changes: ContainerConfig | None = None,
        message: str = "",
        platform: Platform | None = None,
    ) -> None:
        self.path = path
        self.changes = changes or ContainerConfig()
        self.message = message
        self.platform = platform or host_platform()
        self._config = b""

    def resolve(self, wanted: Platform | None) -> ResolvedImage:
        compressed, uncompressed, size = hashlib.sha256(), hashlib.sha256(), 0
        with open(self.path, "rb") as f:
            head = f.read(4)
        with open(self.path, "rb") as f:
            while chunk := f.read(1 << 20):
                compressed.update(chunk)
                size += len(chunk)
        with open(self.path, "rb") as f:
            stream = _decompressing(f, head)
            while chunk := stream.read(1 << 20):
                uncompressed.update(chunk)
        media_type = (
            OCI_LAYER_GZIP
            if head.startswith(b"\x1f\x8b")
            else OCI_LAYER_ZSTD
            if head.startswith(b"\x28\xb5\x2f\xfd")
            else OCI_LAYER
        )
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        p = wanted or self.platform
        config = ImageConfig(
            architecture=p.architecture,
            os=p.os,
            variant=p.variant,
            created=now,
            config=self.changes,
            diff_ids=["sha256:" + uncompressed.hexdigest()],
            history=[
                History(
                    created=now,
                    created_by="dockyard import",
                    comment=self.message or "Imported from tarball",
                )
            ],
        )
        self._config = config.to_bytes()
        layer = Descriptor(media_type, "sha256:" + compressed.hexdigest(), size)
        manifest = Manifest(
            OCI_MANIFEST,
            Descriptor(OCI_CONFIG, sha256_digest(self._config), len(self._config)),
            [layer],
        )
        raw = manifest.to_bytes()
        return ResolvedImage(manifest, raw, sha256_digest(raw))

    def open_blob(self, desc: Descriptor) -> Readable:
        if desc.media_type == OCI_CONFIG:
            import io

            return io.BytesIO(self._config)
        return open(self.path, "rb")
