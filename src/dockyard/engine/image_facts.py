"""What a container takes from its image's config, and how run options override it.

`ImageFacts` is the engine's view of an image config (``config.Env``,
``Entrypoint``, ``Cmd``, ``User``...), read straight from the config blob's
JSON. `merge` makes a container's `ContainerConfig` from it and the user's
options the way Docker's daemon does at ``create``: ``-e`` replaces or adds
to the image's Env, arguments replace Cmd, ``--entrypoint`` replaces the
Entrypoint and drops the image's Cmd, ``-w``/``-u``/``--stop-signal`` win
over the image's, labels are merged.
"""

from __future__ import annotations

from dockyard.engine.record import field, record
from dockyard.engine.types import ContainerConfig, HealthConfig
from dockyard.errors import InvalidArgument
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@record
class ImageFacts:
    id: str
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    user: str = ""
    working_dir: str = ""
    stop_signal: str = ""
    volumes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)
    healthcheck: HealthConfig | None = None
    architecture: str = ""
    os: str = ""


def _strs(d: dict[str, Any], key: str) -> list[str] | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"image config: config.{key} must be an array of strings")
    return list(value)


def _str(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument(f"image config: config.{key} must be a string")
    return value


def _keys(d: dict[str, Any], key: str) -> list[str]:
    value = d.get(key)
    if not isinstance(value, dict):
        return []
    return sorted(value)


def read_facts(image_id: str, config_blob: bytes) -> ImageFacts:
    raw = jsonio.loads(config_blob)
    if not isinstance(raw, dict):
        raise InvalidArgument(f"image {image_id}: its config is not a JSON object")
    c = raw.get("config") or {}
    if not isinstance(c, dict):
        raise InvalidArgument(f"image {image_id}: config.config is not an object")
    labels = c.get("Labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise InvalidArgument(f"image {image_id}: config.Labels must map strings to strings")
    return ImageFacts(
        id=image_id,
        env=_strs(c, "Env") or [],
        entrypoint=_strs(c, "Entrypoint"),
        cmd=_strs(c, "Cmd"),
        user=_str(c, "User"),
        working_dir=_str(c, "WorkingDir"),
        stop_signal=_str(c, "StopSignal"),
        volumes=_keys(c, "Volumes"),
        labels=dict(labels),
        exposed_ports=_keys(c, "ExposedPorts"),
        healthcheck=_healthcheck(c.get("Healthcheck")),
        architecture=str(raw.get("architecture") or ""),
        os=str(raw.get("os") or ""),
    )


def _healthcheck(raw: object) -> HealthConfig | None:
    if raw is None:
        return None
    from dockyard.engine.health_config import from_image

    return from_image(raw)


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    """Docker's ReplaceOrAppendEnvValues: a later KEY= replaces an earlier one in place."""
    merged: dict[str, str] = {}
    for item in [*base, *extra]:
        merged[item.partition("=")[0]] = item
    return list(merged.values())


def merge(
    image: ImageFacts,
    image_name: str,
    *,
    cmd: list[str] | None = None,
    entrypoint: list[str] | None = None,
    env: list[str] | None = None,
    user: str | None = None,
    working_dir: str | None = None,
    labels: dict[str, str] | None = None,
    stop_signal: str | None = None,
) -> ContainerConfig:
    """The container's Config: the image's, with the user's options over it."""
    if entrypoint is not None:
        ep = [a for a in entrypoint if a] or None  # --entrypoint "" clears it
        args = list(cmd) if cmd else None
    else:
        ep = image.entrypoint
        args = list(cmd) if cmd else image.cmd
    workdir = working_dir if working_dir else image.working_dir
    if workdir and not workdir.startswith("/"):
        raise InvalidArgument(
            f"the working directory {workdir!r} is invalid; it needs to be absolute"
        )
    return ContainerConfig(
        image=image_name,
        user=user if user is not None else image.user,
        env=merge_env(image.env, env or []),
        cmd=args,
        entrypoint=ep,
        volumes=list(image.volumes),
        working_dir=workdir,
        labels={**image.labels, **(labels or {})},
        stop_signal=stop_signal or image.stop_signal,
        exposed_ports=list(image.exposed_ports),
    )
