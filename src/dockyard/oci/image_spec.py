"""Typed model of the OCI image spec and Docker's schema2, parsed and emitted here.

One class per shape: a `Manifest` is an OCI image manifest or a Docker
schema2 manifest (the same shape under two media types); an `Index` is an OCI
image index or a Docker manifest list. `ImageConfig` is the image's config
blob. Unknown fields are kept in ``extra`` and written back unchanged, so a
manifest we re-emit has the digest it came with only if we never re-emit it:
callers keep the raw bytes wherever a digest matters.

Images are not on the container start path, so dataclasses are fine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
#: what a client accepts when it asks a registry for a manifest
ACCEPT_MANIFESTS = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)
LAYER_TYPES = (
    OCI_LAYER,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    OCI_LAYER_NONDIST_GZIP,
    DOCKER_LAYER,
    DOCKER_LAYER_GZIP,
    DOCKER_LAYER_FOREIGN,
)

#: Docker's and OCI's names for the same thing, for converting a manifest's types
DOCKER_TO_OCI = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_MANIFEST_LIST: OCI_INDEX,
    DOCKER_CONFIG: OCI_CONFIG,
    DOCKER_LAYER: OCI_LAYER,
    DOCKER_LAYER_GZIP: OCI_LAYER_GZIP,
}
OCI_TO_DOCKER = {v: k for k, v in DOCKER_TO_OCI.items()}

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CONTAINERD_NAME = "io.containerd.image.name"


class BadDocument(InvalidArgument):
    """A manifest, index or config that does not follow its spec; names the field."""

    def __init__(self, what: str, field_path: str, problem: str) -> None:
        super().__init__(f"{what}: {field_path}: {problem}")
        self.field_path = field_path


def _obj(value: Any, what: str, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadDocument(what, path, "must be an object")
    return value


def _str(d: dict[str, Any], key: str, what: str, path: str = "", required: bool = False) -> str:
    value = d.get(key)
    if value is None:
        if required:
            raise BadDocument(what, f"{path}{key}", "is required")
        return ""
    if not isinstance(value, str):
        raise BadDocument(what, f"{path}{key}", "must be a string")
    return value


def _strs(d: dict[str, Any], key: str, what: str, path: str = "") -> list[str]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadDocument(what, f"{path}{key}", "must be an array of strings")
    return list(value)


def _str_map(d: dict[str, Any], key: str, what: str, path: str = "") -> dict[str, str]:
    value = _obj(d.get(key), what, f"{path}{key}")
    if not all(isinstance(v, str) for v in value.values()):
        raise BadDocument(what, f"{path}{key}", "must map strings to strings")
    return dict(value)


def _rest(d: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in known}


def is_valid_digest(digest: str) -> bool:
    algorithm, sep, hexpart = digest.partition(":")
    if not sep:
        return False
    if algorithm == "sha256":
        size = 64
    elif algorithm == "sha512":
        size = 128
    else:
        return False
    return len(hexpart) == size and all(c in "0123456789abcdef" for c in hexpart)


@dataclass
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""
    os_version: str = ""
    os_features: list[str] = field(default_factory=list)

    _KEYS = ("os", "architecture", "variant", "os.version", "os.features")

    @classmethod
    def from_json(cls, raw: Any, what: str = "platform") -> Platform:
        d = _obj(raw, what, "platform")
        return cls(
            os=_str(d, "os", what, "platform."),
            architecture=_str(d, "architecture", what, "platform."),
            variant=_str(d, "variant", what, "platform."),
            os_version=_str(d, "os.version", what, "platform."),
            os_features=_strs(d, "os.features", what, "platform."),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        return out

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: list[str] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    platform: Platform | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("mediaType", "digest", "size", "urls", "annotations", "platform")

    @classmethod
    def from_json(cls, raw: Any, what: str, path: str) -> Descriptor:
        d = _obj(raw, what, path)
        digest = _str(d, "digest", what, f"{path}.", required=True)
        if not is_valid_digest(digest):
            raise BadDocument(what, f"{path}.digest", f"{digest!r} is not a sha256/sha512 digest")
        size = d.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise BadDocument(what, f"{path}.size", "must be a non-negative integer")
        platform = d.get("platform")
        return cls(
            media_type=_str(d, "mediaType", what, f"{path}."),
            digest=digest,
            size=size,
            urls=_strs(d, "urls", what, f"{path}."),
            annotations=_str_map(d, "annotations", what, f"{path}."),
            platform=None if platform is None else Platform.from_json(platform, what),
            extra=_rest(d, cls._KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        out.update(self.extra)
        return out


@dataclass
class Manifest:
    """An OCI image manifest or a Docker schema2 manifest."""

    media_type: str
    config: Descriptor
    layers: list[Descriptor]
    annotations: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("schemaVersion", "mediaType", "config", "layers", "annotations")

    @classmethod
    def from_json(cls, d: dict[str, Any], media_type: str) -> Manifest:
        what = "image manifest"
        layers = d.get("layers")
        if not isinstance(layers, list):
            raise BadDocument(what, "layers", "must be an array")
        return cls(
            media_type=media_type,
            config=Descriptor.from_json(d.get("config"), what, "config"),
            layers=[Descriptor.from_json(x, what, f"layers[{i}]") for i, x in enumerate(layers)],
            annotations=_str_map(d, "annotations", what),
            extra=_rest(d, cls._KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        out["config"] = self.config.to_json()
        out["layers"] = [layer.to_json() for layer in self.layers]
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        out.update(self.extra)
        return out

    def to_bytes(self) -> bytes:
        return jsonio.dumps(self.to_json(), indent=3).encode()


@dataclass
class Index:
    """An OCI image index or a Docker manifest list."""

    media_type: str
    manifests: list[Descriptor]
    annotations: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("schemaVersion", "mediaType", "manifests", "annotations")

    @classmethod
    def from_json(cls, d: dict[str, Any], media_type: str) -> Index:
        what = "image index"
        manifests = d.get("manifests")
        if manifests is None:
            manifests = []
        if not isinstance(manifests, list):
            raise BadDocument(what, "manifests", "must be an array")
        return cls(
            media_type=media_type,
            manifests=[
                Descriptor.from_json(x, what, f"manifests[{i}]") for i, x in enumerate(manifests)
            ],
            annotations=_str_map(d, "annotations", what),
            extra=_rest(d, cls._KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type}
        out["manifests"] = [m.to_json() for m in self.manifests]
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        out.update(self.extra)
        return out

    def to_bytes(self) -> bytes:
        return jsonio.dumps(self.to_json(), indent=3).encode()


def load_json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = jsonio.loads(raw)
    except (jsonio.JSONError, UnicodeDecodeError) as exc:
        raise BadDocument(what, "(document)", f"is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BadDocument(what, "(document)", "must be a JSON object")
    return value


def parse_manifest(raw: bytes, media_type: str = "") -> Manifest | Index:
    """A manifest or an index from its bytes; ``media_type`` is the Content-Type, if known."""
    d = load_json(raw, "manifest")
    declared = d.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise BadDocument("manifest", "mediaType", "must be a string")
    kind = declared or media_type.split(";")[0].strip()
    if not kind or kind == "application/json":
        kind = OCI_INDEX if "manifests" in d else OCI_MANIFEST
    if d.get("schemaVersion") != 2:
        version = d.get("schemaVersion")
        raise BadDocument(
            "manifest", "schemaVersion", f"{version!r} is not supported (schema 2 is)"
        )
    if kind in INDEX_TYPES:
        return Index.from_json(d, kind)
    if kind in MANIFEST_TYPES:
        return Manifest.from_json(d, kind)
    raise BadDocument("manifest", "mediaType", f"{kind!r} is not a manifest type we know")


# ---------------------------------------------------------------- image config


@dataclass
class ContainerConfig:
    """The ``config`` part of an image config: what a container runs by default."""

    user: str = ""
    exposed_ports: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    volumes: list[str] = field(default_factory=list)
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = (
        "User",
        "ExposedPorts",
        "Env",
        "Entrypoint",
        "Cmd",
        "Volumes",
        "WorkingDir",
        "Labels",
        "StopSignal",
    )

    @classmethod
    def from_json(cls, raw: Any) -> ContainerConfig:
        what, p = "image config", "config."
        d = _obj(raw, what, "config")
        entrypoint = d.get("Entrypoint")
        cmd = d.get("Cmd")
        return cls(
            user=_str(d, "User", what, p),
            exposed_ports=sorted(_obj(d.get("ExposedPorts"), what, p + "ExposedPorts")),
            env=_strs(d, "Env", what, p),
            entrypoint=None if entrypoint is None else _strs(d, "Entrypoint", what, p),
            cmd=None if cmd is None else _strs(d, "Cmd", what, p),
            volumes=sorted(_obj(d.get("Volumes"), what, p + "Volumes")),
            working_dir=_str(d, "WorkingDir", what, p),
            labels=_str_map(d, "Labels", what, p),
            stop_signal=_str(d, "StopSignal", what, p),
            extra=_rest(d, cls._KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.volumes:
            out["Volumes"] = {volume: {} for volume in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        out.update(self.extra)
        return out


@dataclass
class History:
    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_json(cls, raw: Any, path: str) -> History:
        what = "image config"
        d = _obj(raw, what, path)
        return cls(
            created=_str(d, "created", what, path + "."),
            created_by=_str(d, "created_by", what, path + "."),
            author=_str(d, "author", what, path + "."),
            comment=_str(d, "comment", what, path + "."),
            empty_layer=bool(d.get("empty_layer", False)),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in (
            ("created", self.created),
            ("created_by", self.created_by),
            ("author", self.author),
            ("comment", self.comment),
        ):
            if value:
                out[key] = value
        if self.empty_layer:
            out["empty_layer"] = True
        return out


@dataclass
class ImageConfig:
    architecture: str = "amd64"
    os: str = "linux"
    variant: str = ""
    created: str = ""
    author: str = ""
    config: ContainerConfig = field(default_factory=ContainerConfig)
    diff_ids: list[str] = field(default_factory=list)
    history: list[History] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("architecture", "os", "variant", "created", "author", "config", "rootfs", "history")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ImageConfig:
        what = "image config"
        rootfs = _obj(d.get("rootfs"), what, "rootfs")
        if rootfs.get("type", "layers") != "layers":
            raise BadDocument(what, "rootfs.type", "must be 'layers'")
        diff_ids = _strs(rootfs, "diff_ids", what, "rootfs.")
        for i, diff_id in enumerate(diff_ids):
            if not is_valid_digest(diff_id):
                raise BadDocument(what, f"rootfs.diff_ids[{i}]", f"{diff_id!r} is not a digest")
        history = d.get("history") or []
        if not isinstance(history, list):
            raise BadDocument(what, "history", "must be an array")
        return cls(
            architecture=_str(d, "architecture", what),
            os=_str(d, "os", what),
            variant=_str(d, "variant", what),
            created=_str(d, "created", what),
            author=_str(d, "author", what),
            config=ContainerConfig.from_json(d.get("config")),
            diff_ids=diff_ids,
            history=[History.from_json(h, f"history[{i}]") for i, h in enumerate(history)],
            extra=_rest(d, cls._KEYS),
        )

    @classmethod
    def parse(cls, raw: bytes) -> ImageConfig:
        return cls.from_json(load_json(raw, "image config"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture}
        if self.author:
            out["author"] = self.author
        out["config"] = self.config.to_json()
        if self.created:
            out["created"] = self.created
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        out["os"] = self.os
        out["rootfs"] = {"type": "layers", "diff_ids": list(self.diff_ids)}
        if self.variant:
            out["variant"] = self.variant
        out.update(self.extra)
        return out

    def to_bytes(self) -> bytes:
        return jsonio.dumps_compact(self.to_json()).encode()

    @property
    def platform(self) -> Platform:
        return Platform(os=self.os, architecture=self.architecture, variant=self.variant)
