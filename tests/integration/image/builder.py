"""Test images made offline: layers from directories, written as an OCI layout.

`make_layer` tars a directory (or a dict of files) deterministically and
gzips it; `write_layout` writes images (one per platform, or an index of
several) into an OCI layout that ``dockyard load`` and skopeo read.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Layer:
    tar: bytes  # uncompressed
    blob: bytes  # gzip

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)

    @property
    def digest(self) -> str:
        return sha256(self.blob)


def tar_directory(root: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = Path(dirpath, name)
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 1_700_000_000
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def tar_entries(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, tuple):
                info, data = entry
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(entry)
    return buf.getvalue()


def make_layer(tar: bytes, level: int = 1) -> Layer:
    return Layer(tar, gzip.compress(tar, compresslevel=level, mtime=0))


def file_entry(name: str, data: bytes = b"", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    info.mtime = 1_700_000_000
    return info, data


def dir_entry(name: str, mode: int = 0o755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = 1_700_000_000
    return info


@dataclass
class Image:
    layers: list[Layer]
    architecture: str = "amd64"
    variant: str = ""
    cmd: list[str] = field(default_factory=lambda: ["/bin/sh"])
    labels: dict[str, str] = field(default_factory=dict)
    env: list[str] = field(default_factory=lambda: ["PATH=/bin"])
    #: more of the config's "config" (Entrypoint, User, WorkingDir, Volumes, StopSignal...)
    extra: dict[str, object] = field(default_factory=dict)

    def config(self) -> bytes:
        doc = {
            "architecture": self.architecture,
            "os": "linux",
            "created": "2024-01-02T03:04:05Z",
            "config": {"Cmd": self.cmd, "Env": self.env, "Labels": self.labels, **self.extra},
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in self.layers]},
            "history": [
                {"created": "2024-01-02T03:04:05Z", "created_by": f"layer {i}"}
                for i in range(len(self.layers))
            ],
        }
        if self.variant:
            doc["variant"] = self.variant
        return json.dumps(doc, sort_keys=True).encode()

    def manifest(self) -> bytes:
        config = self.config()
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [
                {"mediaType": OCI_LAYER_GZIP, "digest": layer.digest, "size": len(layer.blob)}
                for layer in self.layers
            ],
        }
        return json.dumps(doc, sort_keys=True).encode()

    @property
    def id(self) -> str:
        return sha256(self.config())

    def platform(self) -> dict[str, str]:
        p = {"os": "linux", "architecture": self.architecture}
        if self.variant:
            p["variant"] = self.variant
        return p


def _put(layout: Path, data: bytes) -> str:
    digest = sha256(data)
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def write_layout(layout: Path, named: dict[str, list[Image]]) -> Path:
    """An OCI layout: each name (``docker.io/x/y:tag``) one image, or an index if several."""
    manifests = []
    for name, images in named.items():
        descs = []
        for image in images:
            _put(layout, image.config())
            for layer in image.layers:
                _put(layout, layer.blob)
            raw = image.manifest()
            desc = {"mediaType": OCI_MANIFEST, "digest": _put(layout, raw), "size": len(raw)}
            if len(images) > 1:
                desc["platform"] = image.platform()
            descs.append(desc)
        if len(images) > 1:
            index = json.dumps(
                {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}
            ).encode()
            top = {"mediaType": OCI_INDEX, "digest": _put(layout, index), "size": len(index)}
        else:
            top = descs[0]
        tag = name.rsplit(":", 1)[1]
        top["annotations"] = {
            "io.containerd.image.name": name,
            "org.opencontainers.image.ref.name": tag,
        }
        manifests.append(top)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": manifests}))
    return layout
