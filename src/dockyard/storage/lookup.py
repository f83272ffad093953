"""Read-only lookups for a container start, without the store's writers.

``dockyard run`` needs three things from the store before it makes a
snapshot: which image a name points at (names.json), the image's config
(its blob) and that the image exists (its record). Importing the store's
full machinery for them (dataclasses, pathlib, the image spec's parser)
costs more than the rest of a container start, so these read the same files
with ``posix`` alone. They never write and never lock: the files are
replaced by rename, and a missing or unreadable one is a miss (None), which
sends the caller down the store's own path, which knows how to report it.
Keep in step with images.py (names.json, images/<hex>.json) and store.py
(blobs/sha256/<hex>).
"""

from __future__ import annotations

import posix

from dockyard.oci import jsonio

_MAX_RECORD = 4 << 20


def _read(path: str, limit: int = _MAX_RECORD) -> bytes | None:
    try:
        fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = b""
        while len(data) <= limit and (chunk := posix.read(fd, 1 << 16)):
            data += chunk
    except OSError:
        return None
    finally:
        posix.close(fd)
    return data if len(data) <= limit else None


def _hex(image_id: str) -> str | None:
    algorithm, _, hexpart = image_id.partition(":")
    if algorithm != "sha256" or len(hexpart) != 64:
        return None
    return hexpart


def image_for_name(root: str, full_name: str) -> str | None:
    """The image id names.json gives ``full_name`` (docker.io/library/busybox:latest)."""
    raw = _read(f"{root}/names.json")
    if raw is None:
        return None
    try:
        doc = jsonio.loads(raw)
    except ValueError:
        return None
    tags = doc.get("tags") if isinstance(doc, dict) else None
    image_id = tags.get(full_name) if isinstance(tags, dict) else None
    if not isinstance(image_id, str) or _hex(image_id) is None:
        return None
    return image_id if has_image(root, image_id) else None


def has_image(root: str, image_id: str) -> bool:
    hexpart = _hex(image_id)
    if hexpart is None:
        return False
    try:
        posix.stat(f"{root}/images/{hexpart}.json")
    except OSError:
        return False
    return True


def config_blob(root: str, image_id: str) -> bytes | None:
    """The image's config (its id is the config's digest)."""
    hexpart = _hex(image_id)
    return _read(f"{root}/blobs/sha256/{hexpart}", 16 << 20) if hexpart else None


def image_layers(root: str, image_id: str) -> list[str] | None:
    """The chain ids of the image's layers, base first (its record's ``layers``)."""
    hexpart = _hex(image_id)
    raw = _read(f"{root}/images/{hexpart}.json") if hexpart else None
    if raw is None:
        return None
    try:
        doc = jsonio.loads(raw)
    except ValueError:
        return None
    layers = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(layers, list) or not all(
        isinstance(c, str) and _hex(c) is not None for c in layers
    ):
        return None
    return layers


def layer_dir(root: str, chain_id: str) -> str:
    """Where a layer's files are (layers.py's ``Layers.diff_dir``)."""
    return f"{root}/layers/{_hex(chain_id)}/diff"
