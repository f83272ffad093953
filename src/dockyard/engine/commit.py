"""``commit``: a new image from a container's changes, with its config and history as Docker's.

The container's upper directory becomes one gzip layer on top of its image's
layers (none when nothing changed: Docker then adds an ``empty_layer``
history entry). The config is the container's Config with the ``--change``
instructions applied and merged back over it (moby's ``merge``); the
history gets one entry: when, who (``-a``), ``created_by`` the container's
Cmd, ``comment`` (``-m``). The image goes into the store through the same
pipeline as a pull, so it is an image like any other: ``images``,
``history``, ``run``, ``push`` and ``save`` take it.

A running container is frozen while its layer is read (``-p``, the
default), so the layer is one moment's state. Its record says ``paused``
meanwhile: a commit killed half-way leaves a container that ``unpause``
thaws, never one frozen behind a ``running`` status.
"""

from __future__ import annotations

import hashlib
import io
import os

from dockyard.engine.clock import rfc3339_now
from dockyard.engine.status import Status
from dockyard.errors import Conflict, InvalidArgument
from dockyard.oci.image_spec import (
    DOCKER_TO_OCI,
    OCI_CONFIG,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
    Descriptor,
    Manifest,
    Platform,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord
    from dockyard.image.transport import ResolvedImage
    from dockyard.storage.local import LocalStore


class _Hashing:
    """A writer that hashes and counts what passes through to ``out``."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.count = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.count += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.hash.hexdigest()


class LayerFile:
    """The container's changes as a gzip layer in ``path``: its digests and size."""

    def __init__(self, path: str, digest: str, size: int, diff_id: str, entries: int) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self.diff_id = diff_id
        self.entries = entries

    @property
    def empty(self) -> bool:
        return self.entries == 0


def write_layer_file(engine: Engine, rec: ContainerRecord, path: str) -> LayerFile:
    """Write the container's upper directory (runtime stubs left out) as a gzip layer."""
    from dockyard.engine.changes import INIT_PATHS, upper_and_layers
    from dockyard.storage.compression import gzip_writer
    from dockyard.storage.differ import runtime_stubs, write_layer

    upper, layers = upper_and_layers(engine, rec)
    stubs = runtime_stubs(upper, layers, INIT_PATHS)
    with open(path, "wb") as f:
        blob = _Hashing(f)
        gz = gzip_writer(blob, level=6)  # type: ignore[arg-type]
        diff = _Hashing(gz)
        entries = write_layer(upper, diff, stubs)  # type: ignore[arg-type]
        gz.close()
        f.flush()
        os.fsync(f.fileno())
    return LayerFile(path, blob.digest, blob.count, diff.digest, entries)


def merge(user: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """moby's merge: what the changes left unset comes from the container's Config."""
    out = dict(user)
    if not out.get("User"):
        out["User"] = container.get("User", "")
    ports = dict(container.get("ExposedPorts") or {})
    ports.update(out.get("ExposedPorts") or {})
    if ports:
        out["ExposedPorts"] = ports
    env = list(out.get("Env") or [])
    keys = {e.partition("=")[0] for e in env}
    env += [e for e in container.get("Env") or [] if e.partition("=")[0] not in keys]
    out["Env"] = env
    labels = dict(container.get("Labels") or {})
    labels.update(out.get("Labels") or {})
    out["Labels"] = labels
    if not out.get("Entrypoint"):
        if not out.get("Cmd"):
            out["Cmd"] = container.get("Cmd")
        if out.get("Entrypoint") is None:
            out["Entrypoint"] = container.get("Entrypoint")
    if not out.get("WorkingDir"):
        out["WorkingDir"] = container.get("WorkingDir", "")
    volumes = dict(container.get("Volumes") or {})
    volumes.update(out.get("Volumes") or {})
    out["Volumes"] = volumes or None
    if not out.get("StopSignal") and container.get("StopSignal"):
        out["StopSignal"] = container["StopSignal"]
    return out


class CommitSource:
    """The new image as an image source for the store's copy pipeline: the parent's
    layers (already in the store) and the new one, a fresh config and manifest."""

    def __init__(
        self,
        store: LocalStore,
        parent_layers: list[Descriptor],
        config_raw: bytes,
        layer: LayerFile | None,
    ) -> None:
        self.store = store
        self.config_raw = config_raw
        self.layer = layer
        self.layers = [
            Descriptor(DOCKER_TO_OCI.get(d.media_type, d.media_type), d.digest, d.size)
            for d in parent_layers
        ]
        if layer is not None:
            self.layers.append(Descriptor(OCI_LAYER_GZIP, layer.digest, layer.size))

    def resolve(self, wanted: Platform | None) -> ResolvedImage:
        from dockyard.image.digest import sha256_digest
        from dockyard.image.transport import ResolvedImage

        config = Descriptor(OCI_CONFIG, sha256_digest(self.config_raw), len(self.config_raw))
        manifest = Manifest(OCI_MANIFEST, config, list(self.layers))
        raw = manifest.to_bytes()
        return ResolvedImage(manifest, raw, sha256_digest(raw))

    def open_blob(self, desc: Descriptor) -> IO[bytes] | _ClosingReader:
        if desc.media_type == OCI_CONFIG:
            return io.BytesIO(self.config_raw)
        if self.layer is not None and desc.digest == self.layer.digest:
            return _ClosingReader(open(self.layer.path, "rb"))
        return _ClosingReader(self.store.open_blob(desc.digest))  # a parent's: in the store


class _ClosingReader:
    """A file the copy pipeline reads to its end and drops: closed at the end (or when
    collected), since the pipeline closes nothing it is given."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def read(self, amount: int = -1) -> bytes:
        if self.f.closed:
            return b""  # the pipeline reads on past the end to be sure of it
        data = self.f.read(amount)
        if not data:
            self.f.close()
        return data

    def __del__(self) -> None:
        self.f.close()


def _tag(repository: str) -> list[str]:
    """``commit CONTAINER [REPOSITORY[:TAG]]``: the full name, ``:latest`` if no tag."""
    if not repository:
        return []
    from dockyard.image import reference

    ref = reference.parse(repository)
    if ref.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    return [str(ref)]


def image_config(
    engine: Engine,
    rec: ContainerRecord,
    parent: dict[str, Any],
    config: dict[str, Any],
    layer: LayerFile | None,
    author: str,
    message: str,
) -> dict[str, Any]:
    """The new image's config: the parent's platform, rootfs and history, and ours."""
    from dockyard.engine.inspect import _config

    created = rfc3339_now()
    container_config = _config(rec)
    entry: dict[str, Any] = {"created": created}
    if author:
        entry["author"] = author
    entry["created_by"] = " ".join(container_config.get("Cmd") or [])
    if message:
        entry["comment"] = message
    diff_ids = list((parent.get("rootfs") or {}).get("diff_ids") or [])
    if layer is None or layer.empty:
        entry["empty_layer"] = True
    else:
        diff_ids.append(layer.diff_id)
    out: dict[str, Any] = {"architecture": parent.get("architecture") or "amd64"}
    if author:
        out["author"] = author
    out["config"] = config
    out["container"] = rec.id
    out["container_config"] = container_config
    out["created"] = created
    out["history"] = [*(parent.get("history") or []), entry]
    out["os"] = parent.get("os") or "linux"
    out["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    if parent.get("variant"):
        out["variant"] = parent["variant"]
    return out


def commit(
    engine: Engine,
    name: str,
    repository: str = "",
    author: str = "",
    message: str = "",
    changes: list[str] | None = None,
    pause: bool = True,
) -> str:
    """Make an image of the container ``name``; its id (``sha256:...``)."""
    from dockyard.engine.dockerfile_changes import apply_changes
    from dockyard.engine.inspect import _config
    from dockyard.image import copy
    from dockyard.oci import jsonio

    tags = _tag(repository)
    rec = engine.containers.find(name)
    container_config = _config(rec)
    config = merge(apply_changes(container_config, changes or []), container_config)
    store = engine.images.store
    with store.scratch() as scratch:
        layer = _freeze_and_write(engine, rec.id, pause, f"{scratch}/layer.tar.gz")
        rec = engine.containers.get(rec.id)
        parent_record = store.images.get(rec.image_id)
        parent = jsonio.loads(store.read_blob(rec.image_id))
        raw = jsonio.dumps_compact(
            image_config(engine, rec, parent, config, layer, author, message)
        ).encode()
        parent_layers = store.images.manifest(parent_record).layers
        source = CommitSource(store, parent_layers, raw, None if layer.empty else layer)
        result = copy.pull(source, store, tags=tags)
    return result.image_id


def _freeze_and_write(engine: Engine, container_id: str, pause: bool, path: str) -> LayerFile:
    """The layer, written under the container lock, the container frozen if asked."""
    from dockyard.engine.exits import current_status

    with engine.lock(container_id):
        rec = engine.containers.get(container_id)
        status = current_status(engine, rec)
        if status in (Status.REMOVING, Status.DEAD):
            raise Conflict(f"cannot commit container {rec.name}: it is {status}")
        frozen = pause and status == Status.RUNNING
        if frozen:
            _pause(engine, rec)
        try:
            return write_layer_file(engine, rec, path)
        finally:
            if frozen:
                _resume(engine, rec)


def _pause(engine: Engine, rec: ContainerRecord) -> None:
    rec.status = Status.PAUSED  # first: a commit killed from here on leaves it "paused"
    engine.containers.update(rec, expect=(Status.RUNNING,))
    try:
        engine.runtime_for(rec.host.runtime).pause(rec.id)
    except BaseException:
        rec.status = Status.RUNNING
        engine.containers.update(rec)
        raise


def _resume(engine: Engine, rec: ContainerRecord) -> None:
    engine.runtime_for(rec.host.runtime).resume(rec.id)
    rec = engine.containers.get(rec.id)
    if rec.status == Status.PAUSED:
        rec.status = Status.RUNNING
        engine.containers.update(rec)
