"""A registry repository as an image source."""

from __future__ import annotations

from dockyard.oci.image_spec import Descriptor, Platform

from .digest import Readable
from .reference import Reference
from .registry import Registry
from .resume import ResumingReader
from .transport import ResolvedImage, resolve_manifest


class RegistrySource:
    """Blobs by HTTP: each open is a request of its own, so layer workers may be forked."""

    forkable = True

    def __init__(self, registry: Registry, ref: Reference) -> None:
        self.registry = registry
        self.ref = ref

    def resolve(self, wanted: Platform | None) -> ResolvedImage:
        top = self.registry.get_manifest(self.ref.path, self.ref.reference)

        def child(desc: Descriptor) -> bytes:
            return self.registry.get_manifest(self.ref.path, desc.digest).raw

        return resolve_manifest(top.raw, top.media_type, top.digest, wanted, child)

    def open_blob(self, desc: Descriptor) -> Readable:
        """The blob as a stream that resumes (HTTP Range) if the connection breaks."""
        return ResumingReader(
            lambda offset: self.registry.open_blob(self.ref.path, desc, offset),
            desc.size,
            f"blob {desc.digest}",
        )
