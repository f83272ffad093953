"""``ps``: which containers to list (filters, -a, -n, -l) and the row of each, in Docker's terms.

A row is a dict keyed by the names Docker's ``--format`` templates use
(``.ID``, ``.Image``, ``.Command``, ``.CreatedAt``, ``.RunningFor``,
``.Ports``, ``.Status``, ``.State``, ``.Names``, ``.Labels``, ``.Mounts``,
``.Networks``, ``.Size``), holding the strings Docker prints; any template
engine can take the rows as they are.
"""

from __future__ import annotations

import time

from dockyard.engine.clock import human_duration, parse_ns
from dockyard.engine.exits import current_status, read_exit
from dockyard.engine.status import Status
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

FILTERS = (
    "id",
    "name",
    "label",
    "exited",
    "status",
    "ancestor",
    "before",
    "since",
    "volume",
    "network",
    "health",
    "is-task",  # swarm tasks: there are none, so true matches nothing and false everything
)
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
RUNNING_LIKE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"bad format of filter (expected name=value): {item}")
        if key not in FILTERS:
            raise InvalidArgument(f"Invalid filter '{key}'")  # Docker's daemon's words
        if key == "status" and value not in STATUSES:
            raise InvalidArgument(f"Invalid filter 'status={value}'")
        if key == "health" and value not in ("starting", "healthy", "unhealthy", "none"):
            raise InvalidArgument(f"Unrecognised filter value for health: {value}")
        if key == "is-task" and value not in ("true", "false", "1", "0"):
            raise InvalidArgument(f"Invalid filter 'is-task={value}'")
        out.setdefault(key, []).append(value)
    return out


def quote(text: str) -> str:
    """Go's strconv.Quote for the text Docker shows."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def status_text(engine: Engine, rec: ContainerRecord, now: float) -> tuple[str, str]:
    """(State, Status) as ``docker ps`` shows them: running / "Up 5 minutes"..."""
    state = current_status(engine, rec)
    if state == Status.RESTARTING:
        ended = parse_ns(rec.state.finished_at) / 1e9
        return state, f"Restarting ({rec.state.exit_code}) {human_duration(now - ended)} ago"
    if state in RUNNING_LIKE:
        since = parse_ns(rec.state.started_at) / 1e9
        up = f"Up {human_duration(now - since)}"
        if state == Status.PAUSED:
            return state, up + " (Paused)"
        return state, up + _health_label(engine, rec)
    if state == Status.EXITED:
        code, finished = rec.state.exit_code, rec.state.finished_at
        if rec.status != Status.EXITED:
            info = read_exit(engine, rec.id)
            if info is not None:
                code, finished = info.exit_code, info.finished_at
        ago = human_duration(now - parse_ns(finished) / 1e9) if finished else "0 seconds"
        return state, f"Exited ({code}) {ago} ago"
    if state == Status.REMOVING:
        return state, "Removal In Progress"
    return state, state.capitalize()


def _matches(
    engine: Engine, rec: ContainerRecord, state: str, f: dict[str, list[str]], order: dict[str, int]
) -> bool:
    if "id" in f and not any(rec.id.startswith(v) for v in f["id"]):
        return False
    if "name" in f:
        import re

        if not any(re.search(v, rec.name) for v in f["name"]):
            return False
    if "label" in f:
        for want in f["label"]:
            key, sep, value = want.partition("=")
            if key not in rec.config.labels or (sep and rec.config.labels[key] != value):
                return False
    if "status" in f and state not in f["status"]:
        return False
    if "exited" in f and (state != Status.EXITED or str(rec.state.exit_code) not in f["exited"]):
        return False
    if "ancestor" in f and not any(_is_ancestor(engine, rec, v) for v in f["ancestor"]):
        return False
    if "volume" in f and not any(
        m.name == v or m.destination == v or m.source == v for m in rec.mounts for v in f["volume"]
    ):
        return False
    if "network" in f and not _on_network(engine, rec, f["network"]):
        return False
    if "health" in f and _health_value(engine, rec, state) not in f["health"]:
        return False
    if any(v in ("true", "1") for v in f.get("is-task", [])):
        return False
    for value in f.get("before", []):
        if order[rec.id] >= order.get(engine.containers.find(value).id, -1):
            return False
    for value in f.get("since", []):
        if order[rec.id] <= order.get(engine.containers.find(value).id, -1):
            return False
    return True


def _health_label(engine: Engine, rec: ContainerRecord) -> str:
    if rec.config.healthcheck is None:
        return ""
    from dockyard.engine.health import current, label

    return label(current(engine, rec, running=True))


def _health_value(engine: Engine, rec: ContainerRecord, state: str) -> str:
    """Docker's health filter: the status of a container with a check, else "none"."""
    if rec.config.healthcheck is None:
        return "none"
    from dockyard.engine.health import current, filter_value

    health = current(engine, rec, running=state in (Status.RUNNING, Status.PAUSED))
    if health is not None and state not in RUNNING_LIKE:
        health.status = "unhealthy"
    return filter_value(health)


def _is_ancestor(engine: Engine, rec: ContainerRecord, text: str) -> bool:
    if text == rec.config.image or rec.image_id.removeprefix("sha256:").startswith(
        text.removeprefix("sha256:")
    ):
        return True
    try:
        return engine.images.find(text).id == rec.image_id
    except Exception:
        return False


def _networks(engine: Engine, rec: ContainerRecord) -> list[str]:
    """The names of the container's networks (each it is connected to), or its mode."""
    mode = rec.host.network_mode
    if mode in ("host", "none", "default") or mode.startswith("container:"):
        return ["none" if mode == "default" else mode]
    from dockyard.engine.net_attach import endpoints

    return [net.name for net, _ in endpoints(engine, rec.id)] or [mode]


def _on_network(engine: Engine, rec: ContainerRecord, wanted: list[str]) -> bool:
    """``--filter network=``: by a network's name or id (a prefix of it), as Docker's."""
    mode = rec.host.network_mode
    if mode in ("host", "none", "default") or mode.startswith("container:"):
        return ("none" if mode == "default" else mode) in wanted
    from dockyard.engine.net_attach import endpoints

    return any(
        value in (net.name, net.id) or (len(value) >= 3 and net.id.startswith(value))
        for net, _ in endpoints(engine, rec.id)
        for value in wanted
    )


def _ports(engine: Engine, rec: ContainerRecord, state: str) -> str:
    if state not in RUNNING_LIKE:
        return ""
    from dockyard.engine.net_ports import ports_text

    return ports_text(engine, rec)


def select(
    engine: Engine,
    show_all: bool = False,
    last: int = -1,
    filters: dict[str, list[str]] | None = None,
) -> list[ContainerRecord]:
    """The containers ``ps`` shows, newest first."""
    records = engine.containers.all()
    # creation order, oldest 0: what before/since compare
    order = {r.id: i for i, r in enumerate(reversed(records))}
    if last >= 0:
        show_all = True
    f = filters or {}
    if "status" in f or "exited" in f:
        show_all = True
    chosen = []
    for rec in records:
        state = current_status(engine, rec)
        if not show_all and state not in RUNNING_LIKE:
            continue
        if _matches(engine, rec, state, f, order):
            chosen.append(rec)
    return chosen[:last] if last >= 0 else chosen


def row(
    engine: Engine, rec: ContainerRecord, no_trunc: bool = False, size: bool = False
) -> dict[str, Any]:
    now = time.time()
    state, status = status_text(engine, rec, now)
    path, *args = [*(rec.config.entrypoint or []), *(rec.config.cmd or [])] or [""]
    # Docker's daemon quotes an argument that holds a space: "sh -c 'exit 3'"
    command = " ".join([path, *(f"'{a}'" if " " in a else a for a in args)])
    created = parse_ns(rec.created) / 1e9
    out: dict[str, Any] = {
        "ID": rec.id if no_trunc else rec.id[:12],
        "Image": rec.config.image,
        "Command": quote(command if no_trunc else ellipsis(command, 20)),
        "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(created)),
        "RunningFor": f"{human_duration(now - created)} ago",
        "Ports": _ports(engine, rec, state),
        "State": state,
        "Status": status,
        "Names": rec.name,
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(rec.config.labels.items())),
        "Mounts": ",".join(
            m.name if m.type == "volume" else ellipsis(m.source, 15) if m.source else m.destination
            for m in rec.mounts
        ),
        "Networks": ",".join(_networks(engine, rec)),
        "LocalVolumes": str(sum(1 for m in rec.mounts if m.type == "volume")),
        "Size": "",
    }
    if size:
        out["Size"] = size_text(engine, rec)
    return out


def size_text(engine: Engine, rec: ContainerRecord) -> str:
    """ "2B (virtual 1.98MB)": what the container wrote, and with its image's size."""
    from dockyard.engine.sizes import human_size, tree_size

    written = tree_size(f"{engine.images.store.root}/snapshots/{rec.id}/upper")
    try:
        image = engine.images.store.images.get(rec.image_id).size
    except Exception:
        image = 0
    return f"{human_size(written)} (virtual {human_size(written + image)})"
