"""The copy pipelines: any source into the store (pull, load), the store to a registry (push).

Layers move in parallel (``jobs``): from a registry in forked worker processes,
so that unpacking uses every core (workers.py), from local archives in
threads. Each one is streamed, hashed and unpacked at once by the store,
which keeps nothing it could not verify. A
registry download that breaks resumes where it broke (HTTP Range, see
resume.py); a layer that fails otherwise is started again from scratch, a
couple of times.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from dockyard.errors import HostError, InvalidArgument, NoSpace, NotFound
from dockyard.oci.image_spec import Descriptor, ImageConfig, Index, Platform, parse_manifest

from . import platform as platforms
from . import workers
from .digest import DigestMismatch, Readable, VerifyingReader, sha256_digest, verify_bytes
from .progress import Progress
from .registry import Registry
from .response import TransferStalled
from .transport import ImageSource, ImageStore, ResolvedImage

MAX_CONFIG = 16 << 20
RETRIES = 2


def chain_ids(diff_ids: list[str]) -> list[str]:
    import hashlib

    chains: list[str] = []
    for diff_id in diff_ids:
        if chains:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append("sha256:" + hashlib.sha256(text).hexdigest())
        else:
            chains.append(diff_id)
    return chains


@dataclass
class PullResult:
    image_id: str
    digest: str  # what the reference resolved to (an index's digest, if any)
    downloaded: bool  # False: every layer was there already


def _read_config(source: ImageSource, store: ImageStore, desc: Descriptor) -> bytes:
    # read, not "has, then read": an rmi or prune may remove an unleased config
    # between the two (the pull then failed with "blob ... is not in the store")
    try:
        return store.read_blob(desc.digest)
    except NotFound:
        pass  # not in the store, or no longer: fetched
    if desc.size > MAX_CONFIG:
        raise InvalidArgument(f"config {desc.digest}: {desc.size} bytes is too large")
    reader = VerifyingReader(source.open_blob(desc), desc.digest, desc.size, "image config")
    data = b""
    while chunk := reader.read(1 << 20):
        data += chunk
    return data


def _check_platform(config: ImageConfig, wanted: Platform | None) -> None:
    if wanted is not None and not platforms.matches(wanted, config.platform):
        raise NotFound(f"the image is for {config.platform}, not the requested {wanted}")


def pull(
    source: ImageSource,
    store: ImageStore,
    *,
    wanted: Platform | None = None,
    tags: list[str] | None = None,
    repo_digests: Callable[[str], list[str]] | None = None,
    progress: Progress | None = None,
    jobs: int = 4,
) -> PullResult:
    """Copy one image from ``source`` into ``store``; returns its ID."""
    progress = progress or Progress()
    image: ResolvedImage = source.resolve(wanted)
    manifest = image.manifest
    config_raw = _read_config(source, store, manifest.config)
    config = ImageConfig.parse(config_raw)
    _check_platform(config, wanted)
    if len(config.diff_ids) != len(manifest.layers):
        raise InvalidArgument(
            f"the manifest has {len(manifest.layers)} layers, the config "
            f"{len(config.diff_ids)} diff IDs"
        )
    chains = chain_ids(config.diff_ids)
    statuses: list[str] = ["exists"] * len(chains)
    with store.ingest() as ingest:
        for _i, layer in enumerate(manifest.layers):
            progress.start(layer.digest.removeprefix("sha256:"), "Pulling fs layer", layer.size)

        def one(i: int, progress: Progress) -> str:
            layer = manifest.layers[i]
            key = layer.digest.removeprefix("sha256:")
            for attempt in range(RETRIES + 1):
                try:
                    status = ingest.layer(
                        layer,
                        config.diff_ids[i],
                        chains[i],
                        chains[i - 1] if i else "",
                        fetch=lambda layer=layer: _started(source, layer, progress, key),  # type: ignore[misc]
                        on_read=lambda n: progress.advance(key, n),
                        on_extract=lambda: progress.status(key, "Extracting"),
                    )
                    break
                except (DigestMismatch, NoSpace, TransferStalled):
                    raise
                except HostError:
                    if attempt == RETRIES:
                        raise
                    progress.status(key, "Retrying")
            progress.status(key, "Already exists" if status == "exists" else "Pull complete")
            return status

        tasks = [functools.partial(one, i) for i in range(len(chains))]
        if jobs > 1 and len(tasks) > 1 and getattr(source, "forkable", False):
            biggest_first = sorted(range(len(tasks)), key=lambda i: -manifest.layers[i].size)
            statuses = workers.run_forked(tasks, jobs, progress, biggest_first)
        else:

            def record(i: int) -> None:
                statuses[i] = one(i, progress)

            _run_parallel([functools.partial(record, i) for i in range(len(tasks))], jobs)
        ingest.put_blob(manifest.config.digest, config_raw)
        ingest.put_blob(image.manifest_digest, image.manifest_raw)
        if image.index_raw:
            ingest.put_blob(image.index_digest, image.index_raw)
        digests = repo_digests(image.top_digest) if repo_digests else []
        image_id = ingest.commit(image, config_raw, tags or [], digests)
    progress.close()
    return PullResult(image_id, image.top_digest, any(s != "exists" for s in statuses))


def _started(source: ImageSource, layer: Descriptor, progress: Progress, key: str) -> Readable:
    progress.start(key, "Downloading", layer.size)
    return source.open_blob(layer)


def _run_parallel(tasks: list[Callable[[], None]], jobs: int) -> None:
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
        return
    # Imported here: a pull from a registry forks instead, and need not load it (~10 ms).
    from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        futures: list[Future[None]] = [pool.submit(task) for task in tasks]
        _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                wait(futures)
                raise future.exception()  # type: ignore[misc]


# ---------------------------------------------------------------- push


@dataclass
class PushImage:
    """What push needs from the store: the manifest as stored, its blobs readable."""

    manifest_raw: bytes
    manifest_media_type: str
    manifest_digest: str
    config: Descriptor
    layers: list[Descriptor]


def push(
    store: ImageStore,
    image: PushImage,
    registry: Registry,
    path: str,
    tag: str,
    *,
    mount_from: list[str] | None = None,
    progress: Progress | None = None,
    jobs: int = 4,
) -> str:
    """Push blobs (skipping those the registry has, mounting what another repo has), then
    the manifest under ``tag``; returns the manifest digest the registry stored."""
    progress = progress or Progress()
    lock = threading.Lock()
    sources = [p for p in (mount_from or []) if p != path]

    def one(desc: Descriptor, show: bool) -> None:
        key = desc.digest.removeprefix("sha256:")
        if show:
            progress.start(key, "Preparing", desc.size)
        if registry.has_blob(path, desc.digest, scopes=(f"repository:{path}:pull,push",)):
            if show:
                progress.status(key, "Layer already exists")
            return
        for other in sources:
            if registry.mount_blob(path, desc.digest, other):
                if show:
                    progress.status(key, f"Mounted from {other}")
                return
        if show:
            progress.start(key, "Pushing", desc.size)

        @contextlib.contextmanager
        def verified() -> Iterator[Readable]:
            with store.open_blob(desc.digest) as blob:
                yield VerifyingReader(blob, desc.digest, desc.size, f"blob {desc.digest}")

        restarted = [False]

        def sent(amount: int) -> None:
            if show and restarted[0]:  # the first bytes of a new attempt: a new bar
                restarted[0] = False
                progress.start(key, "Pushing", desc.size)
            if show:
                progress.advance(key, amount)

        def retrying(wait: float) -> None:
            restarted[0] = True
            if show:
                progress.status(key, f"Retrying in {wait:.0f} seconds")

        registry.upload_blob(path, desc, verified, on_sent=sent, on_retry=retrying)
        if show:
            with lock:
                progress.status(key, "Pushed")

    tasks: list[Callable[[], None]] = [lambda d=d: one(d, True) for d in image.layers]  # type: ignore[misc]
    _run_parallel(tasks, jobs)
    one(image.config, False)
    digest = registry.put_manifest(
        path, tag or image.manifest_digest, image.manifest_raw, image.manifest_media_type
    )
    progress.close()
    return digest


def push_tree(
    open_blob: Callable[[str], IO[bytes]],
    raw: bytes,
    media_type: str,
    registry: Registry,
    path: str,
    tag: str,
    jobs: int = 4,
) -> str:
    """Push a manifest or a whole index (every platform's manifest and blobs) as found in
    an OCI layout; ``open_blob`` reads a blob by digest. Returns the top digest."""
    parsed = parse_manifest(raw, media_type)
    if isinstance(parsed, Index):
        for child in parsed.manifests:
            with open_blob(child.digest) as f:
                child_raw = verify_bytes(f.read(), child.digest, child.size, child.digest)
            push_tree(open_blob, child_raw, child.media_type, registry, path, child.digest, jobs)
        return registry.put_manifest(path, tag, raw, parsed.media_type)

    class _Blobs:
        def open_blob(self, digest: str) -> IO[bytes]:
            return open_blob(digest)

    image = PushImage(raw, parsed.media_type, sha256_digest(raw), parsed.config, parsed.layers)
    return push(_Blobs(), image, registry, path, tag, jobs=jobs)  # type: ignore[arg-type]
