"""``stats``' figures from a real cgroup (v1 here, v2 in the cgroup2 guest), in Docker's
JSON shape, and the CLI's columns computed from them as docker/cli computes them."""

from __future__ import annotations

import time

import pytest

from dockyard.cgroups.manager import CgroupManager
from dockyard.cli.formatter.stats_row import StatsRow, cpu_percent, memory_usage
from dockyard.engine.stats import from_cgroup, machine_memory
from tests.integration.cgroups.conftest import Spawn

pytestmark = [pytest.mark.integration, pytest.mark.cgroup2]


def _is_v2(manager: CgroupManager) -> bool:
    return set(manager.paths()) == {""}


def test_a_busy_cgroup_in_dockers_shape(cgroup: CgroupManager, spawn: Spawn) -> None:
    limit = 64 * 1024 * 1024
    cgroup.set({"memory": {"limit": limit}, "pids": {"limit": 50}})
    # a spinning shell, and 24 MiB held in /dev/shm (tmpfs pages count as the cgroup's)
    busy = spawn("read go; while :; do :; done")
    cgroup.apply(busy.pid)
    assert busy.stdin is not None
    busy.stdin.write("go\n")
    busy.stdin.flush()
    shm = f"/dev/shm/dockyard-test-stats-{busy.pid}"
    holder = spawn(f"read go; head -c 25165824 /dev/zero > {shm}; echo done; read wait")
    cgroup.apply(holder.pid)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline() == "done\n"

        first = from_cgroup(cgroup, "web", "a" * 64)
        time.sleep(1.0)
        doc = from_cgroup(cgroup, "web", "a" * 64, first)
    finally:
        import os

        os.unlink(shm)

    assert list(doc) == [
        "read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats",
        "cpu_stats", "precpu_stats", "memory_stats", "name", "id",
    ]  # fmt: skip
    assert doc["preread"] == first["read"] and doc["precpu_stats"] == first["cpu_stats"]
    assert doc["name"] == "/web" and doc["id"] == "a" * 64
    assert doc["pids_stats"] == {"current": 2, "limit": 50}
    cpu = doc["cpu_stats"]
    assert cpu["online_cpus"] == os_cpus()
    assert cpu["system_cpu_usage"] > first["cpu_stats"]["system_cpu_usage"]
    usage = cpu["cpu_usage"]
    assert usage["total_usage"] > first["cpu_stats"]["cpu_usage"]["total_usage"]
    assert ("percpu_usage" in usage) is not _is_v2(cgroup)  # v2 has no per-CPU figures
    # one spinning process: about one CPU's worth (a loaded host gives it less; /proc/stat
    # counts in 10 ms ticks, so a second's delta can come out a little short: more)
    assert 20.0 < cpu_percent(doc) < 150.0
    memory = doc["memory_stats"]
    assert memory["limit"] == limit
    inactive = "inactive_file" if _is_v2(cgroup) else "total_inactive_file"
    assert inactive in memory["stats"]
    assert memory_usage(memory) >= 24 * 1024 * 1024
    assert set(doc["blkio_stats"]) >= {"io_service_bytes_recursive", "io_serviced_recursive"}

    row = StatsRow("web", doc)
    assert row.MemUsage.endswith(" / 64MiB")
    assert row.PIDs == "2" and row.ID == "a" * 12 and row.Name == "web"
    assert row.NetIO == "0B / 0B"


def test_no_memory_limit_shows_the_hosts_memory(cgroup: CgroupManager) -> None:
    doc = from_cgroup(cgroup, "idle", "b" * 64)
    assert doc["memory_stats"]["limit"] == machine_memory()
    assert "pids_stats" in doc and "limit" not in doc["pids_stats"]


def os_cpus() -> int:
    with open("/proc/stat") as f:
        return sum(1 for line in f if line.startswith("cpu") and not line.startswith("cpu "))
