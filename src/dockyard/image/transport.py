"""What moves images: sources (a registry, an OCI layout, a docker-archive) and the store.

The store lives in ``storage/``, a package this one may not import; the
copy pipeline talks to it through the protocols here, which the store's
classes satisfy (containers/image's ImageSource/ImageDestination, small).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, Protocol

from dockyard.errors import NotFound
from dockyard.oci.image_spec import Descriptor, Index, Manifest, Platform, parse_manifest

from . import platform as platforms
from .digest import Readable, sha256_digest, verify_bytes


@dataclass
class ResolvedImage:
    """One platform's manifest, found from a tag, a digest or an index."""

    manifest: Manifest
    manifest_raw: bytes
    manifest_digest: str
    index_raw: bytes = b""
    index_digest: str = ""

    @property
    def top_digest(self) -> str:
        """The digest the user's reference resolved to (the index's, if there was one)."""
        return self.index_digest or self.manifest_digest


class ImageSource(Protocol):
    def resolve(self, wanted: Platform | None) -> ResolvedImage: ...

    def open_blob(self, desc: Descriptor) -> Readable: ...


class LayerIngest(Protocol):
    """One running store operation (storage.local.Ingest)."""

    def put_blob(self, digest: str, data: bytes) -> None: ...

    def layer(
        self,
        desc: Descriptor,
        diff_id: str,
        chain_id: str,
        parent: str,
        fetch: Callable[[], Readable],
        on_read: Callable[[int], None] | None = None,
        on_extract: Callable[[], None] | None = None,
    ) -> str: ...

    def commit(
        self, image: ResolvedImage, config_raw: bytes, tags: list[str], repo_digests: list[str]
    ) -> str: ...


class ImageStore(Protocol):
    def has_blob(self, digest: str) -> bool: ...

    def read_blob(self, digest: str) -> bytes: ...

    def open_blob(self, digest: str) -> IO[bytes]: ...

    def ingest(self) -> AbstractContextManager[LayerIngest]: ...


def resolve_manifest(
    raw: bytes,
    media_type: str,
    digest: str,
    wanted: Platform | None,
    fetch_child: Callable[[Descriptor], bytes],
) -> ResolvedImage:
    """From a top-level manifest or index to one platform's manifest."""
    parsed = parse_manifest(raw, media_type)
    if isinstance(parsed, Manifest):
        return ResolvedImage(parsed, raw, digest)
    index: Index = parsed
    chosen = platforms.select(index, wanted or platforms.host_platform())
    child_raw = verify_bytes(
        fetch_child(chosen), chosen.digest, chosen.size, f"manifest {chosen.digest}"
    )
    child = parse_manifest(child_raw, chosen.media_type)
    if not isinstance(child, Manifest):
        raise NotFound(f"{chosen.digest}: nested indexes are not supported")
    return ResolvedImage(child, child_raw, chosen.digest, raw, digest)


def digest_of(raw: bytes) -> str:
    return sha256_digest(raw)
