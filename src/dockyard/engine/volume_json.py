"""Volumes as Docker shows them: ``volume inspect`` JSON and ``volume ls`` filters."""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import VolumeRecord


def volume_json(vol: VolumeRecord) -> dict[str, Any]:
    return {
        "CreatedAt": vol.created.split(".")[0] + "Z" if "." in vol.created else vol.created,
        "Driver": vol.driver,
        "Labels": dict(vol.labels) or None,
        "Mountpoint": vol.mountpoint,
        "Name": vol.name,
        "Options": dict(vol.options) or None,
        "Scope": "local",
    }


def select(engine: Engine, filters: list[str]) -> list[VolumeRecord]:
    volumes = engine.volumes.all()
    used: set[str] | None = None
    for item in filters:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {item}")
        if key == "dangling":
            if used is None:
                used = engine.volumes.in_use()
            dangling = value.lower() in ("true", "1")
            volumes = [v for v in volumes if (v.name not in used) == dangling]
        elif key == "name":
            volumes = [v for v in volumes if value in v.name]
        elif key == "label":
            k, has_value, want = value.partition("=")
            volumes = [
                v for v in volumes if k in v.labels and (not has_value or v.labels[k] == want)
            ]
        elif key == "driver":
            volumes = [v for v in volumes if v.driver == value]
        else:
            raise InvalidArgument(f"invalid filter '{key}'")
    return volumes
