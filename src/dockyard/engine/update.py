"""``update``: new resource limits (and restart policy) for a container, live when it runs,
kept for its next start.

The new values are checked with Docker's rules (a memory limit above the
memory+swap limit already set needs a new ``--memory-swap`` too; at least
6 MB of memory; a reservation under the limit), applied through the OCI
runtime's own ``update`` when the container runs or is paused (so runc's
containers are updated by runc), then written to the record (``inspect``
shows them) and to the bundle's config.json (a restart keeps them). A
stopped container only gets the record and the bundle.
"""

from __future__ import annotations

from dockyard.engine.record import record
from dockyard.engine.status import Status
from dockyard.errors import Conflict, DockyardError, HostError, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord, HostConfig, RestartPolicy

MIN_MEMORY = 6 * 1024 * 1024  # Docker's linux minimum


@record
class Resources:
    """What ``update`` changes; None leaves a value as it is (Docker's zero values)."""

    memory: int | None = None
    memory_swap: int | None = None  # -1: unlimited swap
    memory_reservation: int | None = None
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    pids_limit: int | None = None  # 0 or -1: no limit
    restart_policy: RestartPolicy | None = None

    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in _FIELDS)


_FIELDS = (
    "memory", "memory_swap", "memory_reservation", "nano_cpus", "cpu_shares", "cpuset_cpus",
    "pids_limit", "restart_policy",
)  # fmt: skip


def merge(host: HostConfig, new: Resources) -> None:
    """Docker's UpdateContainer: the new values over the old, with its checks."""
    if new.memory is not None and new.memory < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if host.memory and host.memory_swap == 0:
        # what the container was given: Docker records memory+swap as twice the memory
        host.memory_swap = host.memory * 2
    if new.memory:
        if 0 < host.memory_swap < new.memory and not new.memory_swap:
            raise Conflict(
                "Memory limit should be smaller than already set memoryswap limit, "
                "update the memoryswap at the same time"
            )
        host.memory = new.memory
    if new.memory_swap:
        if not host.memory:
            raise InvalidArgument(
                "You should always set the Memory limit when using Memoryswap limit"
            )
        if 0 < new.memory_swap < host.memory:
            raise InvalidArgument(
                "Minimum memoryswap limit should be larger than memory limit, see usage"
            )
        host.memory_swap = new.memory_swap
    if new.memory_reservation is not None:
        host.memory_reservation = new.memory_reservation
    if host.memory and host.memory_reservation > host.memory:
        raise InvalidArgument(
            "Minimum memory limit can not be less than memory reservation limit, see usage"
        )
    if new.nano_cpus is not None:
        host.nano_cpus = new.nano_cpus
    if new.cpu_shares is not None:
        host.cpu_shares = new.cpu_shares
    if new.cpuset_cpus is not None:
        if new.cpuset_cpus:
            check_cpuset(new.cpuset_cpus)
        host.cpuset_cpus = new.cpuset_cpus
    if new.pids_limit is not None:
        host.pids_limit = new.pids_limit if new.pids_limit > 0 else None
    if new.restart_policy is not None:
        from dockyard.engine import restart_policy

        restart_policy.validate(new.restart_policy)
        if host.auto_remove and not restart_policy.is_none(new.restart_policy):
            raise Conflict(
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
            )
        host.restart_policy = new.restart_policy


def cpu_list(text: str) -> set[int]:
    """ "0-3,5" -> {0, 1, 2, 3, 5}; ValueError when it is not a list of CPUs."""
    found: set[int] = set()
    for part in text.split(","):
        low, dash, high = part.strip().partition("-")
        first, last = int(low), int(high) if dash else int(low)
        if first < 0 or last < first:
            raise ValueError(part)
        found.update(range(first, last + 1))
    return found


def check_cpuset(text: str, online_file: str = "/sys/devices/system/cpu/online") -> None:
    """Docker's check: every CPU asked for is online."""
    try:
        wanted = cpu_list(text)
    except ValueError:
        raise InvalidArgument(f"Invalid value {text} for cpuset cpus") from None
    try:
        with open(online_file) as f:
            online_text = f.read().strip()
        online = cpu_list(online_text)
    except (OSError, ValueError):
        return  # the runtime's write will say
    if not wanted <= online:
        raise InvalidArgument(
            f"Requested CPUs are not available - requested {text}, available: {online_text}"
        )


def runtime_resources(rec: ContainerRecord, new: Resources) -> dict[str, Any]:
    """The OCI linux.resources the runtime's update gets: the sections that changed,
    as the container's spec now has them (an unlimited pids is -1: "max")."""
    from dockyard.engine.spec import resources

    full = resources(rec, [])
    out: dict[str, Any] = {}
    if {new.memory, new.memory_swap, new.memory_reservation} != {None}:
        out["memory"] = full.get("memory", {})
    if {new.nano_cpus, new.cpu_shares, new.cpuset_cpus} != {None}:
        cpu = dict(full.get("cpu", {}))
        if new.nano_cpus == 0:
            cpu.update(quota=-1, period=100000)  # --cpus 0: no quota any more
        out["cpu"] = cpu
    if new.pids_limit is not None:
        out["pids"] = full.get("pids", {"limit": -1})
    return out


def _rewrite_bundle(engine: Engine, rec: ContainerRecord) -> None:
    """config.json's linux.resources as the record now says (devices kept as they are)."""
    import posix

    from dockyard.engine.spec import resources
    from dockyard.oci import jsonio

    path = f"{engine.paths.container_dir(rec.id)}/config.json"
    try:
        with open(path, "rb") as f:
            document = jsonio.loads(f.read())
    except FileNotFoundError:
        return  # written afresh by the next start
    current = document.setdefault("linux", {}).setdefault("resources", {})
    for key in ("memory", "cpu", "pids"):
        current.pop(key, None)
    fresh = resources(rec, [])
    fresh.pop("devices", None)
    current.update(fresh)
    tmp = f"{path}.update.tmp"
    with open(tmp, "w") as f:
        f.write(jsonio.dumps_compact(document))
    posix.rename(tmp, path)


def update(engine: Engine, name: str, new: Resources) -> str:
    """Change ``name``'s limits; its id."""
    from dockyard.engine.events import container_event
    from dockyard.engine.exits import current_status

    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        status = current_status(engine, rec)
        if status == Status.REMOVING:
            raise Conflict(f"container {rec.id} is marked for removal and cannot be updated")
        try:
            merge(rec.host, new)
        except Conflict as exc:  # Docker's UpdateContainer's refusals say which container
            raise Conflict(f"Cannot update container {rec.id}: {exc}") from None
        wanted = runtime_resources(rec, new)
        if status in (Status.RUNNING, Status.PAUSED) and wanted:
            try:
                engine.runtime_for(rec.host.runtime).update(rec.id, wanted)
            except DockyardError as exc:
                kind = InvalidArgument if isinstance(exc, InvalidArgument) else HostError
                raise kind(f"Cannot update container {rec.id}: {exc}") from exc
        engine.containers.update(rec)
        _rewrite_bundle(engine, rec)
        container_event(engine, rec, "update")
    return rec.id
