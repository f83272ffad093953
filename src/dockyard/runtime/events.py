"""``events``: a container's stats at an interval and its OOM kills."""

from __future__ import annotations

import time

from dockyard.errors import InvalidArgument
from dockyard.runtime.state import ContainerState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


def stats_event(state: ContainerState) -> dict[str, Any]:
    return {"type": "stats", "id": state.id, "data": state.cgroup().stats()}


def events(root: str, container_id: str, interval: float) -> Iterator[dict[str, Any]]:
    """runc's event stream: stats every ``interval``, an "oom" event per new OOM kill."""
    state = ContainerState.load(root, container_id)
    manager = state.cgroup()
    ooms = manager.oom_kill_count()
    while True:
        state.status = state.current_status()
        if state.status == "stopped":
            return
        count = manager.oom_kill_count()
        if count > ooms:
            ooms = count
            yield {"type": "oom", "id": state.id}
        yield stats_event(state)
        time.sleep(interval)


def wait_interval(text: str) -> float:
    """Go-style durations runc takes for --interval: 5s, 500ms, 1m."""
    value = text.strip()
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if value.endswith(suffix):
            try:
                seconds = float(value[: -len(suffix)]) * scale
            except ValueError:
                break
            if seconds > 0:
                return seconds
    raise InvalidArgument(f"--interval: invalid duration {text!r} (e.g. 5s, 500ms)")
