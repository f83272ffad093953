"""An image as Docker's JSON (``docker image inspect``)."""

from __future__ import annotations

from typing import Any

from dockyard.image import reference
from dockyard.oci import jsonio
from dockyard.storage.images import ImageRecord
from dockyard.storage.local import LocalStore

#: Docker's container.Config, key by key, as its image inspect prints it (None: omitted if unset)
_CONFIG_KEYS: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""),
    ("Domainname", ""),
    ("User", ""),
    ("AttachStdin", False),
    ("AttachStdout", False),
    ("AttachStderr", False),
    ("ExposedPorts", None),
    ("Tty", False),
    ("OpenStdin", False),
    ("StdinOnce", False),
    ("Env", None),
    ("Cmd", None),
    ("Healthcheck", None),
    ("ArgsEscaped", None),
    ("Image", ""),
    ("Volumes", None),
    ("WorkingDir", ""),
    ("Entrypoint", None),
    ("OnBuild", None),
    ("Labels", None),
    ("StopSignal", None),
    ("StopTimeout", None),
    ("Shell", None),
)
_ALWAYS = {"Env", "Cmd", "Volumes", "Entrypoint", "OnBuild", "Labels"}


def docker_config(raw: Any) -> dict[str, Any]:
    """An image config's ``config`` as Docker shows it: every key of its Config struct,
    in its order, Go's zero values where the image says nothing (unknown keys kept)."""
    given = raw if isinstance(raw, dict) else {}
    out: dict[str, Any] = {}
    for key, zero in _CONFIG_KEYS:
        if key in given and (given[key] is not None or key in _ALWAYS):
            out[key] = given[key]
        elif zero is not None or key in _ALWAYS:
            out[key] = zero
    for key, value in given.items():
        out.setdefault(key, value)
    return out


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
        # Docker's inspect: the config's comment, else the last history entry's (commit -m)
        "Comment": raw_config.get("comment")
        or (config.history[-1].comment if config.history else ""),
        "Created": config.created,
        "DockerVersion": raw_config.get("docker_version", ""),
        "Author": config.author,
        "Config": docker_config(raw_config.get("config")),
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
