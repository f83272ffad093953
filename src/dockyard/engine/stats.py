"""``stats``: a container's resource use, read from its cgroup, in Docker's JSON shape.

One sample is what the Engine API's ``/containers/ID/stats`` sends:
``read``, ``preread``, ``pids_stats``, ``blkio_stats``, ``num_procs``,
``storage_stats``, ``cpu_stats`` (with the host's ``system_cpu_usage`` and
``online_cpus`` from /proc/stat, as Docker's daemon reads them),
``precpu_stats`` (the previous sample's, for the CPU % between the two),
``memory_stats`` (the limit capped at the host's memory, as Docker caps it),
``name``, ``id``, ``networks`` (the container's network namespace's
interfaces but ``lo``, from ``/proc/PID/net/dev``; none with ``--network
host`` or ``none``, as Docker shows). The figures come from the cgroup
managers' ``stats()`` (cgroups/v1 and v2), so cgroup v1 and v2 both work.

A container that is not running gives the zero sample Docker gives (its
name and id, nothing else).
"""

from __future__ import annotations

import posix
import time

from dockyard.engine.clock import ZERO, format_ns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cgroups.manager import CgroupManager
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

INTERVAL = 1.0  # seconds between samples, as Docker's daemon collects them

# memory.stat keys Docker's daemon passes on (containerd's metrics), per cgroup version
V1_MEMORY = (
    "cache", "rss", "rss_huge", "mapped_file", "dirty", "writeback", "pgpgin", "pgpgout",
    "pgfault", "pgmajfault", "inactive_anon", "active_anon", "inactive_file", "active_file",
    "unevictable", "hierarchical_memory_limit", "hierarchical_memsw_limit", "total_cache",
    "total_rss", "total_rss_huge", "total_mapped_file", "total_dirty", "total_writeback",
    "total_pgpgin", "total_pgpgout", "total_pgfault", "total_pgmajfault", "total_inactive_anon",
    "total_active_anon", "total_inactive_file", "total_active_file", "total_unevictable",
)  # fmt: skip
V2_MEMORY = (
    "anon", "file", "kernel_stack", "slab", "sock", "shmem", "file_mapped", "file_dirty",
    "file_writeback", "anon_thp", "inactive_anon", "active_anon", "inactive_file", "active_file",
    "unevictable", "slab_reclaimable", "slab_unreclaimable", "pgfault", "pgmajfault",
    "workingset_refault", "workingset_activate", "workingset_nodereclaim", "pgrefill", "pgscan",
    "pgsteal", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed", "thp_fault_alloc",
    "thp_collapse_alloc",
)  # fmt: skip
BLKIO_KEYS = (
    "io_service_bytes_recursive",
    "io_serviced_recursive",
    "io_queue_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "io_time_recursive",
    "sectors_recursive",
)
NET_FIELDS = (
    "rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
    "tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
)  # fmt: skip


def system_cpu(proc_stat: str = "/proc/stat") -> tuple[int, int]:
    """(the host's CPU time in ns, online CPUs): the first seven fields of the "cpu"
    line in clock ticks, and the count of "cpuN" lines, as Docker's daemon reads them."""
    with open(proc_stat) as f:
        lines = f.read().splitlines()
    total = 0
    cpus = 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] == "cpu":
            total = sum(int(v) for v in fields[1:8])
        elif fields and fields[0].startswith("cpu"):
            cpus += 1
    return total * 1_000_000_000 // posix.sysconf("SC_CLK_TCK"), cpus


def machine_memory(meminfo: str = "/proc/meminfo") -> int:
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def network_stats(pid: int, proc: str = "/proc") -> dict[str, dict[str, int]]:
    """The interfaces of the network namespace ``pid`` is in, but loopback."""
    try:
        with open(f"{proc}/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return {}
    found = {}
    for line in lines:
        name, _, rest = line.partition(":")
        name = name.strip()
        values = rest.split()
        if name == "lo" or len(values) < 16:
            continue
        rx, tx = values[0:4], values[8:12]
        found[name] = dict(zip(NET_FIELDS, [int(v) for v in (*rx, *tx)], strict=True))
    return found


def _manager(rec: ContainerRecord) -> CgroupManager:
    from dockyard.cgroups.manager import manager_for
    from dockyard.engine.spec import CGROUP_PARENT

    return manager_for(f"{rec.host.cgroup_parent or CGROUP_PARENT}/{rec.id}", rec.id)


def _cpu(raw: dict[str, Any], v2: bool, system: tuple[int, int]) -> dict[str, Any]:
    usage = raw.get("usage", {})
    cpu_usage: dict[str, Any] = {"total_usage": usage.get("total", 0)}
    if not v2 and usage.get("percpu"):
        cpu_usage["percpu_usage"] = list(usage["percpu"])
    cpu_usage["usage_in_kernelmode"] = usage.get("kernel", 0)
    cpu_usage["usage_in_usermode"] = usage.get("user", 0)
    throttling = raw.get("throttling", {})
    return {
        "cpu_usage": cpu_usage,
        "system_cpu_usage": system[0],
        "online_cpus": system[1],
        "throttling_data": {
            "periods": throttling.get("periods", 0),
            "throttled_periods": throttling.get("throttledPeriods", 0),
            "throttled_time": throttling.get("throttledTime", 0),
        },
    }


def _memory(raw: dict[str, Any], v2: bool, host_memory: int) -> dict[str, Any]:
    usage = raw.get("usage", {})
    stats = raw.get("raw", {})
    keys = V2_MEMORY if v2 else V1_MEMORY
    doc: dict[str, Any] = {"usage": usage.get("usage", 0)}
    if not v2 and usage.get("max"):
        doc["max_usage"] = usage["max"]
    doc["stats"] = {k: stats[k] for k in keys if k in stats}
    if usage.get("failcnt"):
        doc["failcnt"] = usage["failcnt"]
    limit = usage.get("limit", 0)
    # no limit (the kernel's huge number, or "max"): the host's memory, as Docker shows
    doc["limit"] = host_memory if host_memory and limit > host_memory else limit
    return doc


def _blkio(raw: dict[str, Any]) -> dict[str, Any]:
    def entries(key: str) -> list[dict[str, Any]] | None:
        return [dict(e) for e in raw.get(key, [])] or None

    doc: dict[str, Any] = dict.fromkeys(BLKIO_KEYS)
    doc["io_service_bytes_recursive"] = entries("ioServiceBytesRecursive")
    doc["io_serviced_recursive"] = entries("ioServicedRecursive")
    return doc


def zero_cpu() -> dict[str, Any]:
    return {
        "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    }


def empty(rec: ContainerRecord) -> dict[str, Any]:
    """What Docker answers for a container that does not run: its name and id."""
    return {
        "read": ZERO,
        "preread": ZERO,
        "pids_stats": {},
        "blkio_stats": dict.fromkeys(BLKIO_KEYS),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": zero_cpu(),
        "precpu_stats": zero_cpu(),
        "memory_stats": {},
        "name": f"/{rec.name}",
        "id": rec.id,
    }


def from_cgroup(
    manager: CgroupManager,
    name: str,
    container_id: str,
    previous: dict[str, Any] | None = None,
    netns_pid: int = 0,
) -> dict[str, Any]:
    """Docker's sample of the cgroup ``manager`` manages; ``netns_pid``: a process in
    the container's own network namespace (0: report no networks)."""
    raw = manager.stats()
    v2 = set(manager.paths()) == {""}
    pids = raw.get("pids") or {}
    doc: dict[str, Any] = {
        "read": format_ns(time.time_ns()),
        "preread": previous["read"] if previous else ZERO,
        "pids_stats": {k: pids[k] for k in ("current", "limit") if pids.get(k)},
        "blkio_stats": _blkio(raw.get("blkio") or {}),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": _cpu(raw.get("cpu") or {}, v2, system_cpu()),
        "precpu_stats": previous["cpu_stats"] if previous else zero_cpu(),
        "memory_stats": _memory(raw.get("memory") or {}, v2, machine_memory()),
        "name": f"/{name}",
        "id": container_id,
    }
    networks = network_stats(netns_pid) if netns_pid else {}
    if networks:
        doc["networks"] = networks
    return doc


def sample(
    engine: Engine, rec: ContainerRecord, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One sample of ``rec`` (``previous``: the last one, for ``precpu_stats``)."""
    from dockyard.engine.exits import current_status
    from dockyard.engine.status import Status
    from dockyard.errors import DockyardError

    if current_status(engine, rec) not in (Status.RUNNING, Status.PAUSED):
        return empty(rec)
    own_netns = rec.host.network_mode not in ("host", "none")
    try:
        return from_cgroup(
            _manager(rec), rec.name, rec.id, previous, rec.state.pid if own_netns else 0
        )
    except (DockyardError, OSError):
        return empty(rec)


def stream(engine: Engine, name: str, one_shot: bool = False) -> Any:
    """Samples of container ``name`` every `INTERVAL` seconds while it runs (the first
    without a previous CPU sample, as Docker's stream starts); a stopped container's
    zero sample once."""
    rec = engine.containers.find(name)
    previous = None
    while True:
        doc = sample(engine, rec, previous)
        yield doc
        if doc["read"] == ZERO or one_shot:
            return
        previous = doc
        time.sleep(INTERVAL)


def once(engine: Engine, name: str, one_shot: bool = False) -> dict[str, Any]:
    """``stats(stream=False)``: two samples `INTERVAL` apart, so ``precpu_stats`` holds
    the first (Docker's answer); ``one_shot`` returns the first at once."""
    rec = engine.containers.find(name)
    first = sample(engine, rec)
    if one_shot or first["read"] == ZERO:
        return first
    time.sleep(INTERVAL)
    return sample(engine, rec, first)
