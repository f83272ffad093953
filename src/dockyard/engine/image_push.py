"""``push``: images to a registry, with Docker's output written to the stream given.

Like `ImageService.pull`, the progress and the ``TAG: digest: ... size: ...``
lines go to ``out`` (the CLI's stdout; nowhere for the Python API). Blobs
the registry has under another repository of the same host are mounted
rather than sent; afterwards the image records its repo digest there.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from dockyard.engine.engine import Engine
    from dockyard.image.reference import Reference
    from dockyard.image.registry import Registry


def push(
    engine: Engine,
    name: str,
    out: TextIO,
    all_tags: bool = False,
    quiet: bool = False,
    jobs: int = 4,
) -> list[str]:
    """Push ``name`` (every tag of its repository with ``all_tags``); the digests pushed."""
    from dockyard.image import reference
    from dockyard.image.credstore import CredentialStore
    from dockyard.image.http import HttpClient
    from dockyard.image.options import ClientOptions
    from dockyard.image.registry import Registry as RegistryClient

    store = engine.images.store
    if all_tags:
        repo = reference.parse_repository(name)
        refs = [
            reference.parse(n) for n in store.images.names() if n.startswith(repo.repository + ":")
        ]
        if not refs:
            raise InvalidArgument(f"no tags of {repo.familiar_repository} to push")
    else:
        refs = [reference.parse(name)]
        if not refs[0].tag:
            raise InvalidArgument("push needs a tag (or -a), not a digest")
        if not quiet:
            out.write(f"The push refers to repository [{refs[0].repository}]\n")
    with HttpClient(
        CredentialStore(), insecure=engine.insecure, options=ClientOptions.from_env()
    ) as client:
        registry = RegistryClient(client, refs[0].api_host)
        return [_push_one(engine, registry, ref, out, quiet, jobs) for ref in refs]


def _push_one(
    engine: Engine, registry: Registry, ref: Reference, out: TextIO, quiet: bool, jobs: int
) -> str:
    from dockyard.image import copy, progress, reference

    store = engine.images.store
    image = engine.images.find(str(ref))
    manifest = store.images.manifest(image)
    mount_from = [
        reference.parse(d).path
        for d in image.repo_digests
        if reference.parse(d).domain == ref.domain
    ]
    blobs = copy.PushImage(
        store.read_blob(image.manifest_digest),
        image.manifest_media_type,
        image.manifest_digest,
        manifest.config,
        manifest.layers,
    )
    with store.using(image):  # rmi meanwhile does not take the blobs from under us
        digest = copy.push(
            store,
            blobs,
            registry,
            ref.path,
            ref.tag,
            mount_from=mount_from,
            progress=progress.for_stream(out, quiet),
            jobs=jobs,
        )
    if quiet:
        out.write(f"{ref}\n")
    else:
        out.write(f"{ref.tag}: digest: {digest} size: {len(blobs.manifest_raw)}\n")
    store.add_repo_digest(image.id, ref.repository, digest)
    return digest
