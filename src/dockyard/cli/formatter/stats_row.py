"""``stats`` rows: docker/cli's figures from a stats sample, and its statsContext fields.

The figures are the CLI's, not the daemon's: CPU % is the container's CPU
time over the host's between the sample and ``precpu_stats``, times the
online CPUs; memory is usage minus ``total_inactive_file`` (cgroup v1) or
``inactive_file`` (v2); net and block I/O are summed over interfaces and
devices. A row that has no sample (a container that stopped while
streaming) shows ``--``.
"""

from __future__ import annotations

from dockyard.cli.formatter.rows import Row
from dockyard.oci.units import bytes_size, human_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TABLE = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
    "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
)


def cpu_percent(doc: dict[str, Any]) -> float:
    cpu, pre = doc.get("cpu_stats") or {}, doc.get("precpu_stats") or {}
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get(
        "total_usage", 0
    )
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus", 0) or len(cpu.get("cpu_usage", {}).get("percpu_usage", []))
    if system_delta > 0 and cpu_delta > 0:
        return float(cpu_delta / system_delta * online * 100.0)
    return 0.0


def memory_usage(memory: dict[str, Any]) -> float:
    usage = memory.get("usage", 0)
    stats = memory.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:  # cgroup v1
        return float(usage - stats["total_inactive_file"])
    if stats.get("inactive_file", 0) < usage:
        return float(usage - stats.get("inactive_file", 0))
    return float(usage)


def block_io(blkio: dict[str, Any]) -> tuple[int, int]:
    read = write = 0
    for entry in blkio.get("io_service_bytes_recursive") or []:
        op = str(entry.get("op", ""))[:1].lower()
        if op == "r":
            read += entry.get("value", 0)
        elif op == "w":
            write += entry.get("value", 0)
    return read, write


def network_io(networks: dict[str, Any] | None) -> tuple[int, int]:
    rx = tx = 0
    for counters in (networks or {}).values():
        rx += counters.get("rx_bytes", 0)
        tx += counters.get("tx_bytes", 0)
    return rx, tx


def _percent(value: float) -> str:
    return f"{value:.2f}%"


class StatsRow(Row):
    """docker/cli's statsContext: ``.Container .Name .ID .CPUPerc .MemUsage .MemPerc
    .NetIO .BlockIO .PIDs``."""

    GO_TYPE = "*container.statsContext"
    HEADERS = {
        "Container": "CONTAINER",
        "Name": "NAME",
        "ID": "CONTAINER ID",
        "CPUPerc": "CPU %",
        "MemUsage": "MEM USAGE / LIMIT",
        "MemPerc": "MEM %",
        "NetIO": "NET I/O",
        "BlockIO": "BLOCK I/O",
        "PIDs": "PIDS",
    }
    FIELDS = (
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "MemUsage",
        "Name",
        "NetIO",
        "PIDs",
    )

    def __init__(
        self, container: str, doc: dict[str, Any] | None, trunc: bool = True, valid: bool = True
    ) -> None:
        """``container``: what the user named it by (or its short id); ``doc``: the
        sample; not ``valid`` (or no sample): figures are ``--`` (a stream that ended)."""
        self.Container = container
        doc = doc or {}
        name = str(doc.get("name", ""))
        self.Name = name[1:] if len(name) > 1 else "--"
        full = str(doc.get("id", ""))
        self.ID = full[:12] if trunc else full
        if not doc or not valid:
            self.CPUPerc = self.MemPerc = self.NetIO = self.BlockIO = self.PIDs = "--"
            self.MemUsage = "-- / --"
            return
        memory = doc.get("memory_stats") or {}
        used = memory_usage(memory)
        limit = float(memory.get("limit", 0))
        self.CPUPerc = _percent(cpu_percent(doc))
        self.MemUsage = f"{bytes_size(used)} / {bytes_size(limit)}"
        self.MemPerc = _percent(used / limit * 100.0 if limit else 0.0)
        rx, tx = network_io(doc.get("networks"))
        self.NetIO = f"{human_size(rx)} / {human_size(tx)}"
        read, write = block_io(doc.get("blkio_stats") or {})
        self.BlockIO = f"{human_size(read)} / {human_size(write)}"
        self.PIDs = str((doc.get("pids_stats") or {}).get("current", 0))
