"""The v1 backend (and hybrid) against the fake kernel: files, values, order."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.cgroups.devices import parse_rules, rule_string
from dockyard.cgroups.manager import manager_for
from dockyard.cgroups.v1.manager import V1Manager
from dockyard.errors import HostError, InvalidSpec, Unsupported
from tests.support.device_rules import DEVICE_LISTS, allow, deny_all
from tests.unit.cgroups.fakekernel import DeviceCgroup, FakeKernel


@pytest.fixture
def manager(hybrid: FakeKernel) -> V1Manager:
    m = manager_for("/box/c1", "c1", str(hybrid.root))
    assert isinstance(m, V1Manager)
    m.create()
    return m


def at(kernel: FakeKernel, hierarchy: str, name: str) -> str:
    return kernel.read(f"{hierarchy}/box/c1/{name}")


def test_create_makes_the_path_in_every_hierarchy(hybrid: FakeKernel, manager: V1Manager) -> None:
    for path in manager.paths().values():
        assert Path(path, "cgroup.procs").exists()
    assert len(set(manager.paths().values())) == 12  # 11 v1 hierarchies + unified


def test_create_copies_cpuset_down_from_the_root(hybrid: FakeKernel, manager: V1Manager) -> None:
    assert hybrid.read("cpuset/box/cpuset.cpus") == "0-1"
    assert at(hybrid, "cpuset", "cpuset.cpus") == "0-1"
    assert at(hybrid, "cpuset", "cpuset.mems") == "0"


def test_create_is_idempotent(hybrid: FakeKernel, manager: V1Manager) -> None:
    writes = len(hybrid.writes)
    manager.create()
    assert len(hybrid.writes) == writes  # cpuset already filled: nothing to copy


def test_apply_writes_the_pid_everywhere(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.apply(4242)

    for path in manager.paths().values():
        assert Path(path, "cgroup.procs").read_text().split() == ["4242"]
    assert manager.procs() == [4242]


def test_memory(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "memory": {
                "limit": 64 << 20,
                "swap": 128 << 20,
                "reservation": 32 << 20,
                "swappiness": 10,
                "disableOOMKiller": True,
                "kernel": 1 << 20,  # ignored, as runc does
            }
        }
    )

    assert at(hybrid, "memory", "memory.limit_in_bytes") == str(64 << 20)
    assert at(hybrid, "memory", "memory.memsw.limit_in_bytes") == str(128 << 20)
    assert at(hybrid, "memory", "memory.soft_limit_in_bytes") == str(32 << 20)
    assert at(hybrid, "memory", "memory.swappiness") == "10"
    assert at(hybrid, "memory", "memory.oom_control") == "1"
    assert not [w for w in hybrid.writes if "kmem" in w[0]]


def test_memory_and_swap_are_written_in_the_order_the_kernel_accepts(
    hybrid: FakeKernel, manager: V1Manager
) -> None:
    manager.set({"memory": {"limit": 100, "swap": 200}})  # growing from "no limit"
    names = [Path(p).name for p, _ in hybrid.writes if "memory." in p]
    assert names == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]

    hybrid.writes.clear()
    manager.set({"memory": {"limit": 300, "swap": 400}})  # memsw must grow first
    names = [Path(p).name for p, _ in hybrid.writes if "memory." in p]
    assert names == ["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"]


def test_unlimited_memory_also_unlimits_swap(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set({"memory": {"limit": -1}})
    assert at(hybrid, "memory", "memory.memsw.limit_in_bytes") == "-1"
    assert at(hybrid, "memory", "memory.limit_in_bytes") == "-1"


@pytest.mark.parametrize(
    ("memory", "field"),
    [
        ({"limit": "1G"}, "linux.resources.memory.limit"),
        ({"limit": True}, "linux.resources.memory.limit"),
        ({"limit": -5}, "linux.resources.memory.limit"),
        ({"swappiness": 101}, "linux.resources.memory.swappiness"),
        ({"disableOOMKiller": 1}, "linux.resources.memory.disableOOMKiller"),
    ],
)
def test_bad_memory_values_name_the_field(
    manager: V1Manager, memory: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidSpec) as info:
        manager.set({"memory": memory})
    assert info.value.field == field


def test_cpu(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "cpu": {
                "shares": 512,
                "quota": 50000,
                "period": 100000,
                "burst": 1000,
                "realtimeRuntime": 950,
                "realtimePeriod": 1000,
                "idle": 0,
                "cpus": "1",
                "mems": "0",
            }
        }
    )

    assert at(hybrid, "cpu", "cpu.shares") == "512"
    assert at(hybrid, "cpu", "cpu.cfs_quota_us") == "50000"
    assert at(hybrid, "cpu", "cpu.cfs_period_us") == "100000"
    assert at(hybrid, "cpu", "cpu.cfs_burst_us") == "1000"
    assert at(hybrid, "cpu", "cpu.rt_runtime_us") == "950"
    assert at(hybrid, "cpu", "cpu.rt_period_us") == "1000"
    assert at(hybrid, "cpu", "cpu.idle") == "0"
    assert at(hybrid, "cpuset", "cpuset.cpus") == "1"
    assert at(hybrid, "cpuset", "cpuset.mems") == "0"


def test_cpu_shares_the_kernel_clamps_are_reported(manager: V1Manager) -> None:
    with pytest.raises(InvalidSpec, match="maximum of 262144"):
        manager.set({"cpu": {"shares": 1 << 20}})


def test_unlimited_cpu_quota(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set({"cpu": {"quota": -1}})
    assert at(hybrid, "cpu", "cpu.cfs_quota_us") == "-1"


def test_bad_cpuset_list(manager: V1Manager) -> None:
    with pytest.raises(InvalidSpec) as info:
        manager.set({"cpu": {"cpus": "0-1;rm"}})
    assert info.value.field == "linux.resources.cpu.cpus"


@pytest.mark.parametrize(("limit", "expected"), [(10, "10"), (-1, "max")])
def test_pids(hybrid: FakeKernel, manager: V1Manager, limit: int, expected: str) -> None:
    manager.set({"pids": {"limit": limit}})
    assert at(hybrid, "pids", "pids.max") == expected


def test_pids_zero_is_unset(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set({"pids": {"limit": 0}})
    assert hybrid.written("pids.max") == []


def test_block_io_uses_bfq_files_without_cfq(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "blockIO": {
                "weight": 300,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 500}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2097152}],
                "throttleReadIOPSDevice": [{"major": 8, "minor": 16, "rate": 100}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 200}],
            }
        }
    )

    assert hybrid.written("blkio.bfq.weight") == ["300"]
    assert hybrid.written("blkio.bfq.weight_device") == ["8:0 500"]
    assert hybrid.written("blkio.throttle.read_bps_device") == ["8:0 1048576"]
    assert hybrid.written("blkio.throttle.write_bps_device") == ["8:0 2097152"]
    assert hybrid.written("blkio.throttle.read_iops_device") == ["8:16 100"]
    assert hybrid.written("blkio.throttle.write_iops_device") == ["8:16 200"]


def test_block_io_prefers_cfq_weight_when_present(hybrid: FakeKernel, manager: V1Manager) -> None:
    Path(manager.paths()["blkio"], "blkio.weight").write_text("500")
    manager.set({"blockIO": {"weight": 300}})
    assert hybrid.written("blkio.weight") == ["300"]


def test_leaf_weight_without_cfq_is_unsupported(manager: V1Manager) -> None:
    with pytest.raises(Unsupported, match=r"blkio\.leaf_weight"):
        manager.set({"blockIO": {"leafWeight": 300}})


def test_throttle_needs_a_device(manager: V1Manager) -> None:
    with pytest.raises(InvalidSpec) as info:
        manager.set({"blockIO": {"throttleReadBpsDevice": [{"rate": 1}]}})
    assert info.value.field == "linux.resources.blockIO.throttleReadBpsDevice[0]"


def test_hugepages(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 21}]})
    assert at(hybrid, "hugetlb", "hugetlb.2MB.limit_in_bytes") == str(4 << 21)


@pytest.mark.parametrize("size", ["2M", "16MB", "xMB"])
def test_unknown_page_sizes(manager: V1Manager, size: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        manager.set({"hugepageLimits": [{"pageSize": size, "limit": 0}]})
    assert info.value.field == "linux.resources.hugepageLimits[0].pageSize"


def test_network(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "network": {
                "classID": 0x100001,
                "priorities": [{"name": "eth0", "priority": 5}, {"name": "lo", "priority": 2}],
            }
        }
    )
    assert at(hybrid, "net_cls,net_prio", "net_cls.classid") == str(0x100001)
    assert hybrid.written("net_prio.ifpriomap") == ["eth0 5", "lo 2"]


def test_a_controller_that_is_not_mounted_is_unsupported(hybrid: FakeKernel) -> None:
    for child in (hybrid.root / "pids").iterdir():
        child.unlink()
    (hybrid.root / "pids").rmdir()
    manager = manager_for("/box/c1", "c1", str(hybrid.root))
    manager.create()

    with pytest.raises(Unsupported, match=r"linux.resources.pids.limit.*pids"):
        manager.set({"pids": {"limit": 5}})
    with pytest.raises(Unsupported, match="rdma"):
        manager.set({"rdma": {"mlx4_0": {"hcaHandles": 2}}})


def test_unified_is_refused_on_v1_and_hybrid(manager: V1Manager) -> None:
    with pytest.raises(Unsupported, match="unified"):
        manager.set({"unified": {"memory.high": "1G"}})


def test_resources_must_be_objects(manager: V1Manager) -> None:
    with pytest.raises(InvalidSpec) as info:
        manager.set({"memory": [1]})
    assert info.value.field == "linux.resources.memory"


def test_devices_deny_all_then_allow_in_order(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "devices": [
                {"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"},
                {"allow": True, "type": "b", "major": 8, "access": "m"},
            ]
        }
    )

    assert hybrid.written("devices.deny") == ["a"]
    assert hybrid.written("devices.allow") == ["c 1:3 rwm", "c 1:5 r", "b 8:* m"]
    listing = at(hybrid, "devices", "devices.list").splitlines()
    assert listing == ["c 1:3 rwm", "c 1:5 r", "b 8:* m"]


def test_devices_update_writes_only_the_difference(hybrid: FakeKernel, manager: V1Manager) -> None:
    rules: list[dict[str, Any]] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
    ]
    manager.set({"devices": rules})
    hybrid.writes.clear()

    manager.set({"devices": [*rules, {"allow": True, "type": "c", "major": 1, "minor": 9}]})

    assert hybrid.writes == [("devices/box/c1/devices.allow", "c 1:9 rwm")]


def test_devices_allow_all_then_deny_some(hybrid: FakeKernel, manager: V1Manager) -> None:
    manager.set(
        {
            "devices": [
                {"allow": True, "access": "rwm"},
                {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "w"},
            ]
        }
    )
    assert hybrid.written("devices.allow") == ["a"]
    assert hybrid.written("devices.deny") == ["c 1:3 w"]


def test_freeze_and_thaw(hybrid: FakeKernel, manager: V1Manager) -> None:
    assert not manager.is_frozen()
    manager.freeze()
    assert at(hybrid, "freezer", "freezer.state") == "FROZEN"
    assert manager.is_frozen()
    manager.thaw()
    assert at(hybrid, "freezer", "freezer.state") == "THAWED"


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "30"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def test_kill_all_freezes_signals_and_thaws(
    hybrid: FakeKernel, manager: V1Manager, sleeper: subprocess.Popen[bytes]
) -> None:
    manager.apply(sleeper.pid)

    manager.kill_all(9)

    assert sleeper.wait(timeout=5) == -9
    assert hybrid.written("freezer.state") == ["FROZEN", "THAWED"]


def test_stats(hybrid: FakeKernel, manager: V1Manager) -> None:
    base = Path(manager.paths()["memory"])
    (base / "memory.usage_in_bytes").write_text("4096\n")
    (base / "memory.limit_in_bytes").write_text("8192\n")
    (base / "memory.failcnt").write_text("3\n")
    (base / "memory.stat").write_text("cache 100\nrss 200\ntotal_cache 150\n")
    (base / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    cpuacct = Path(manager.paths()["cpuacct"])
    (cpuacct / "cpuacct.usage").write_text("123456\n")
    (cpuacct / "cpuacct.usage_percpu").write_text("100000 23456 \n")
    (cpuacct / "cpuacct.stat").write_text("user 3\nsystem 1\n")
    cpu = Path(manager.paths()["cpu"])
    (cpu / "cpu.stat").write_text("nr_periods 10\nnr_throttled 4\nthrottled_time 777\n")
    pids = Path(manager.paths()["pids"])
    (pids / "pids.current").write_text("2\n")
    (pids / "pids.max").write_text("64\n")
    blkio = Path(manager.paths()["blkio"])
    (blkio / "blkio.throttle.io_service_bytes_recursive").write_text(
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n"
    )

    stats = manager.stats()

    assert stats["memory"]["usage"] == {"usage": 4096, "max": 0, "limit": 8192, "failcnt": 3}
    assert stats["memory"]["cache"] == 150
    assert stats["memory"]["raw"]["rss"] == 200
    ns_per_tick = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    assert stats["cpu"]["usage"]["total"] == 123456
    assert stats["cpu"]["usage"]["percpu"] == [100000, 23456]
    assert stats["cpu"]["usage"]["user"] == 3 * ns_per_tick
    assert stats["cpu"]["usage"]["kernel"] == 1 * ns_per_tick
    assert stats["cpu"]["throttling"] == {
        "periods": 10,
        "throttledPeriods": 4,
        "throttledTime": 777,
    }
    assert stats["pids"] == {"current": 2, "limit": 64}
    assert stats["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 4096},
        {"major": 8, "minor": 0, "op": "Write", "value": 8192},
        {"major": 8, "minor": 0, "op": "Total", "value": 12288},
    ]
    assert manager.oom_kill_count() == 2


def test_destroy_removes_every_directory_deepest_first(
    hybrid: FakeKernel, manager: V1Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = Path(manager.paths()["memory"], "inner", "deeper")
    nested.mkdir(parents=True)
    (nested / "cgroup.procs").write_text("")
    (nested.parent / "cgroup.procs").write_text("")
    removed: list[str] = []
    real_rmdir = hybrid.rmdir

    def recording_rmdir(path: str) -> None:
        real_rmdir(path)
        removed.append(path)

    monkeypatch.setattr("dockyard.cgroups.fs._rmdir", recording_rmdir)

    manager.destroy()

    memory = manager.paths()["memory"]
    mine = [p for p in removed if p.startswith(memory)]
    assert mine == [f"{memory}/inner/deeper", f"{memory}/inner", memory]
    assert not any(Path(p).exists() for p in manager.paths().values())
    assert Path(hybrid.root, "memory", "box").exists()  # the shared parent stays
    manager.destroy()  # idempotent


def test_destroy_reports_what_it_cannot_remove(
    hybrid: FakeKernel, manager: V1Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(path: str) -> None:
        raise OSError(16, "Device or resource busy", path)

    monkeypatch.setattr("dockyard.cgroups.fs._rmdir", busy)
    monkeypatch.setattr("dockyard.cgroups.fs.RMDIR_TIMEOUT", 0.05)
    with pytest.raises(HostError, match="still busy"):
        manager.destroy()


def written_in_order(rules: list[dict[str, Any]]) -> str:
    """devices.list of a fresh cgroup after each rule is written in turn (crun's way)."""
    cgroup = DeviceCgroup()
    for rule in parse_rules(rules):
        cgroup.write(rule[0], rule_string(rule))
    return cgroup.listing()


@pytest.mark.parametrize("rules", DEVICE_LISTS.values(), ids=DEVICE_LISTS.keys())
def test_devices_end_as_the_listed_rules_written_in_order(
    hybrid: FakeKernel, manager: V1Manager, rules: list[dict[str, Any]]
) -> None:
    manager.set({"devices": rules})

    assert at(hybrid, "devices", "devices.list") + "\n" == written_in_order(rules)


def test_devices_list_shows_the_allowed_devices_in_listed_order(
    hybrid: FakeKernel, manager: V1Manager
) -> None:
    manager.set({"devices": DEVICE_LISTS["deny-all-then-allows"]})

    listing = at(hybrid, "devices", "devices.list").splitlines()
    assert listing == ["c 10:229 rwm", "c 1:3 rwm", "b 8:* m"]


@pytest.mark.parametrize("rules", DEVICE_LISTS.values(), ids=DEVICE_LISTS.keys())
def test_devices_updated_from_other_rules_end_the_same(
    hybrid: FakeKernel, manager: V1Manager, rules: list[dict[str, Any]]
) -> None:
    # A live container is moved to the new rules without a deny-all in between:
    # the same devices, though kept entries keep their place in the list.
    manager.set({"devices": [deny_all(), allow("c", 1, 3, "r"), allow("c", 5, 0, "rwm")]})

    manager.set({"devices": rules})

    got = at(hybrid, "devices", "devices.list").splitlines()
    assert sorted(got) == sorted(written_in_order(rules).splitlines())
