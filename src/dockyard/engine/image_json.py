"""An image as Docker's JSON (``docker image inspect``)."""

from __future__ import annotations

from typing import Any

from dockyard.image import reference
from dockyard.oci import jsonio
from dockyard.storage.images import ImageRecord
from dockyard.storage.local import LocalStore


def inspect_data(store: LocalStore, record: ImageRecord) -> dict[str, Any]:
    config = store.images.config(record)
    raw_config = jsonio.loads(store.read_blob(record.id))
    tags = [reference.parse(t).familiar for t in store.images.tags_of(record.id)]
    digests = [reference.parse(d).familiar for d in record.repo_digests]
    dirs = [str(d) for d in store.layer_dirs(record)]
    return {
        "Id": record.id,
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": "",
        "Comment": raw_config.get("comment", ""),
        "Created": config.created,
        "DockerVersion": raw_config.get("docker_version", ""),
        "Author": config.author,
        "Config": config.config.to_json(),
        "Architecture": config.architecture,
        **({"Variant": config.variant} if config.variant else {}),
        "Os": config.os,
        "Size": record.size,
        "GraphDriver": {
            "Data": {
                "LowerDir": ":".join(reversed(dirs[:-1])) or None,
                "UpperDir": dirs[-1] if dirs else None,
            },
            "Name": "overlay",
        },
        "RootFS": {"Type": "layers", "Layers": list(config.diff_ids)},
        "Metadata": {"LastTagTime": ""},
        "Descriptor": {
            "mediaType": record.manifest_media_type,
            "digest": record.manifest_digest,
            "size": store.store.blob_path(record.manifest_digest).stat().st_size,
        },
    }
