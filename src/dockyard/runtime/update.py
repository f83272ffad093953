"""``update``: new resource limits for a live container."""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime.state import CREATED, PAUSED, RUNNING, ContainerState, Lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def update(root: str, container_id: str, resources: dict[str, Any]) -> None:
    """Apply new limits to a live container and keep them in its state."""
    if not isinstance(resources, dict):
        raise InvalidArgument("resources must be a JSON object")
    with Lock(root, container_id):
        state = ContainerState.load(root, container_id)
        if state.status not in (RUNNING, PAUSED, CREATED):
            raise Conflict(f"container {container_id} is {state.status}: nothing to update")
        state.cgroup().set(resources)
        _merge(state.config, resources)
        state.save()


def _merge(config: dict[str, Any], resources: dict[str, Any]) -> None:
    """Record new limits in the config's linux.resources, section by section."""
    merged = config.setdefault("linux", {}).setdefault("resources", {})
    for key, value in resources.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value


def parse_size(text: str, flag: str) -> int:
    """runc's sizes: bytes, or with a k/m/g(b) suffix; -1 for unlimited."""
    value = text.strip().lower()
    if value == "-1":
        return -1
    for suffix, factor in (
        ("kb", 1 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("k", 1 << 10),
        ("m", 1 << 20),
        ("g", 1 << 30),
        ("b", 1),
    ):
        if value.endswith(suffix):
            value, scale = value[: -len(suffix)], factor
            break
    else:
        scale = 1
    try:
        return int(float(value) * scale)
    except ValueError:
        raise InvalidArgument(f"{flag}: invalid size {text!r}") from None
