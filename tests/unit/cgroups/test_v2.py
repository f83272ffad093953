"""The v2 backend against the fake kernel: controllers, conversions, freezer, kill."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.cgroups.manager import manager_for
from dockyard.cgroups.v2 import devices as v2_devices
from dockyard.cgroups.v2.cpu import weight_from_shares
from dockyard.cgroups.v2.io import io_weight
from dockyard.cgroups.v2.manager import V2Manager
from dockyard.cgroups.v2.memory import swap_max
from dockyard.errors import HostError, InvalidSpec, Unsupported
from tests.unit.cgroups.fakekernel import FakeKernel


@pytest.fixture
def manager(v2: FakeKernel) -> V2Manager:
    m = manager_for("/box/c1", "c1", str(v2.root))
    assert isinstance(m, V2Manager)
    m.create()
    return m


def at(kernel: FakeKernel, name: str) -> str:
    return kernel.read(f"box/c1/{name}")


def test_create_enables_the_controllers_down_the_path(v2: FakeKernel, manager: V2Manager) -> None:
    all_controllers = v2.read("cgroup.controllers").split()
    assert v2.read("cgroup.subtree_control").split() == all_controllers
    assert v2.read("box/cgroup.subtree_control").split() == all_controllers
    assert at(v2, "cgroup.subtree_control") == ""  # the leaf holds processes
    assert Path(manager.path, "memory.max").exists()


def test_create_is_idempotent(v2: FakeKernel, manager: V2Manager) -> None:
    v2.writes.clear()
    manager.create()
    assert v2.writes == []


def test_apply_and_procs_see_nested_cgroups(v2: FakeKernel, manager: V2Manager) -> None:
    manager.apply(100)
    inner = Path(manager.path, "inner")
    v2.mkdir(str(inner))
    (inner / "cgroup.procs").write_text("200\n")

    assert manager.procs() == [100, 200]


def test_memory(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set(
        {"memory": {"limit": 64 << 20, "swap": 96 << 20, "reservation": 16 << 20, "swappiness": 5}}
    )
    assert at(v2, "memory.max") == str(64 << 20)
    assert at(v2, "memory.swap.max") == str(32 << 20)  # swap alone: 96M - 64M
    assert at(v2, "memory.low") == str(16 << 20)


def test_memory_without_swap_when_swap_equals_limit(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"memory": {"limit": 1 << 20, "swap": 1 << 20}})
    assert at(v2, "memory.swap.max") == "0"


def test_unlimited_memory(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"memory": {"limit": -1}})
    assert at(v2, "memory.max") == "max"
    assert at(v2, "memory.swap.max") == "max"


@pytest.mark.parametrize(
    ("swap", "limit", "expected"),
    [(0, 0, 0), (0, -1, -1), (-1, 100, -1), (300, 100, 200), (100, 100, 0), (0, 100, 0)],
)
def test_swap_conversion(swap: int, limit: int, expected: int) -> None:
    assert swap_max(swap, limit) == expected


@pytest.mark.parametrize(("swap", "limit"), [(100, 0), (100, -1), (50, 100)])
def test_swap_that_cannot_be_converted(swap: int, limit: int) -> None:
    with pytest.raises(InvalidSpec) as info:
        swap_max(swap, limit)
    assert info.value.field == "linux.resources.memory.swap"


@pytest.mark.parametrize(
    ("shares", "weight"), [(0, 0), (2, 1), (1024, 39), (262144, 10000), (1, 1), (10**9, 10000)]
)
def test_shares_to_weight(shares: int, weight: int) -> None:
    assert weight_from_shares(shares) == weight


@pytest.mark.parametrize(("blkio", "io"), [(0, 0), (10, 1), (500, 4950), (1000, 10000)])
def test_blkio_weight_to_io_weight(blkio: int, io: int) -> None:
    assert io_weight(blkio) == io


def test_cpu(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set(
        {
            "cpu": {
                "shares": 1024,
                "quota": 20000,
                "period": 50000,
                "burst": 5000,
                "cpus": "0",
                "mems": "0",
            }
        }
    )
    assert at(v2, "cpu.weight") == "39"
    assert at(v2, "cpu.max") == "20000 50000"
    assert at(v2, "cpu.max.burst") == "5000"
    assert at(v2, "cpuset.cpus") == "0"
    assert at(v2, "cpuset.mems") == "0"


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [
        ({"quota": -1}, "max 100000"),
        ({"period": 20000}, "max 20000"),
        ({"quota": 5000}, "5000 100000"),
    ],
)
def test_cpu_max_defaults(
    v2: FakeKernel, manager: V2Manager, cpu: dict[str, int], expected: str
) -> None:
    manager.set({"cpu": cpu})
    assert at(v2, "cpu.max") == expected


def test_cpu_idle_takes_no_weight(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"cpu": {"idle": 1, "shares": 1024}})
    assert at(v2, "cpu.idle") == "1"
    assert v2.written("cpu.weight") == []


def test_realtime_is_unsupported(manager: V2Manager) -> None:
    with pytest.raises(Unsupported, match="realtimeRuntime"):
        manager.set({"cpu": {"realtimeRuntime": 1000}})


def test_pids(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"pids": {"limit": 32}})
    assert at(v2, "pids.max") == "32"


def test_io_without_bfq(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set(
        {
            "blockIO": {
                "weight": 500,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1000}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 10}],
            }
        }
    )
    assert v2.written("io.weight") == ["4950", "8:0 10000"]
    assert v2.written("io.max") == ["8:0 rbps=1000", "8:0 wiops=10"]


def test_io_with_bfq(v2: FakeKernel, manager: V2Manager) -> None:
    Path(manager.path, "io.bfq.weight").write_text("default 100\n")
    manager.set(
        {"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 20}]}}
    )
    assert v2.written("io.bfq.weight") == ["500", "8:0 20"]


def test_leaf_weight_is_unsupported(manager: V2Manager) -> None:
    with pytest.raises(Unsupported, match="leafWeight"):
        manager.set({"blockIO": {"leafWeight": 10}})


def test_hugepages(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"hugepageLimits": [{"pageSize": "1GB", "limit": 1 << 30}]})
    assert at(v2, "hugetlb.1GB.max") == str(1 << 30)
    assert at(v2, "hugetlb.1GB.rsvd.max") == str(1 << 30)


def test_rdma(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"rdma": {"mlx4_0": {"hcaHandles": 2, "hcaObjects": 2000}}})
    assert v2.written("rdma.max") == ["mlx4_0 hca_handle=2 hca_object=2000"]


def test_network_is_unsupported(manager: V2Manager) -> None:
    with pytest.raises(Unsupported, match="net_cls"):
        manager.set({"network": {"classID": 1}})


def test_unified_files_are_written_as_given_last(v2: FakeKernel, manager: V2Manager) -> None:
    manager.set({"memory": {"limit": 1000}, "unified": {"memory.max": "2000", "pids.max": "7"}})
    assert at(v2, "memory.max") == "2000"
    assert at(v2, "pids.max") == "7"


@pytest.mark.parametrize("key", ["../memory.max", "a/b", "", ".."])
def test_unified_keys_must_be_file_names(manager: V2Manager, key: str) -> None:
    with pytest.raises(InvalidSpec):
        manager.set({"unified": {key: "1"}})


def test_unified_names_a_missing_controller(v2: FakeKernel, manager: V2Manager) -> None:
    with pytest.raises(Unsupported, match="misc controller"):
        manager.set({"unified": {"misc.max": "x 1"}})
    with pytest.raises(Unsupported, match=r"memory\.nonexistent"):
        manager.set({"unified": {"memory.nonexistent": "1"}})


def test_a_controller_not_enabled_is_unsupported(v2: FakeKernel) -> None:
    (v2.root / "cgroup.controllers").write_text("cpu memory")  # no pids on this host
    manager = manager_for("/box/c1", "c1", str(v2.root))
    manager.create()
    with pytest.raises(Unsupported, match="pids cgroup controller"):
        manager.set({"pids": {"limit": 3}})


def test_devices_compile_and_install(manager: V2Manager, monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[tuple[str, bytes]] = []
    monkeypatch.setattr(v2_devices, "install", lambda d, p: installed.append((d, p)))

    manager.set({"devices": [{"allow": False, "access": "rwm"}]})

    assert installed and installed[0][0] == manager.path
    assert len(installed[0][1]) % 8 == 0


def test_freeze_and_thaw(v2: FakeKernel, manager: V2Manager) -> None:
    manager.freeze()
    assert at(v2, "cgroup.freeze") == "1"
    assert manager.is_frozen()
    manager.thaw()
    assert not manager.is_frozen()


def test_freeze_that_never_completes_thaws_and_fails(
    v2: FakeKernel, manager: V2Manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dockyard.cgroups.v2.manager.FREEZE_TIMEOUT", 0.05)
    monkeypatch.setattr(V2Manager, "_events_frozen", lambda self: False)
    with pytest.raises(HostError, match="did not freeze"):
        manager.freeze()
    assert at(v2, "cgroup.freeze") == "0"


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "30"])
    try:
        yield child
    finally:
        child.kill()
        child.wait()


def test_sigkill_uses_cgroup_kill(v2: FakeKernel, manager: V2Manager) -> None:
    manager.apply(4242)  # the fake kernel's cgroup.kill kills nobody
    manager.kill_all(9)
    assert v2.written("cgroup.kill") == ["1"]
    assert v2.written("cgroup.freeze") == []


def test_kill_all_of_an_empty_or_removed_cgroup_does_nothing(
    v2: FakeKernel, manager: V2Manager
) -> None:
    manager.kill_all(9)
    manager.destroy()
    manager.kill_all(15)
    assert v2.written("cgroup.kill") == []


def test_other_signals_freeze_signal_thaw(
    v2: FakeKernel, manager: V2Manager, sleeper: subprocess.Popen[bytes]
) -> None:
    manager.apply(sleeper.pid)
    manager.kill_all(15)
    assert sleeper.wait(timeout=5) == -15
    assert v2.written("cgroup.freeze") == ["1", "0"]


def test_sigkill_without_cgroup_kill(
    v2: FakeKernel, manager: V2Manager, sleeper: subprocess.Popen[bytes]
) -> None:
    Path(manager.path, "cgroup.kill").unlink()
    manager.apply(sleeper.pid)
    manager.kill_all(9)
    assert sleeper.wait(timeout=5) == -9


def test_stats(manager: V2Manager) -> None:
    base = Path(manager.path)
    (base / "cpu.stat").write_text(
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"
        "nr_periods 7\nnr_throttled 2\nthrottled_usec 30\n"
    )
    (base / "memory.current").write_text("4096\n")
    (base / "memory.max").write_text("8192\n")
    (base / "memory.peak").write_text("6000\n")
    (base / "memory.swap.current").write_text("100\n")
    (base / "memory.swap.max").write_text("max\n")
    (base / "memory.stat").write_text("anon 1000\nfile 3000\n")
    (base / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    (base / "pids.current").write_text("3\n")
    (base / "io.stat").write_text("8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n")
    (base / "hugetlb.2MB.current").write_text("2097152\n")

    stats: dict[str, Any] = manager.stats()

    assert stats["cpu"]["usage"] == {
        "total": 1500000,
        "percpu": [],
        "kernel": 500000,
        "user": 1000000,
    }
    assert stats["cpu"]["throttling"] == {
        "periods": 7,
        "throttledPeriods": 2,
        "throttledTime": 30000,
    }
    assert stats["memory"]["usage"] == {"usage": 4096, "max": 6000, "limit": 8192, "failcnt": 4}
    assert stats["memory"]["swap"]["usage"] == 4196
    assert stats["memory"]["swap"]["limit"] == 2**64 - 1
    assert stats["memory"]["cache"] == 3000
    assert stats["pids"] == {"current": 3, "limit": 0}
    assert stats["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "minor": 0, "op": "Read", "value": 10},
        {"major": 8, "minor": 0, "op": "Write", "value": 20},
    ]
    assert stats["blkio"]["ioServicedRecursive"][1] == {
        "major": 8,
        "minor": 0,
        "op": "Write",
        "value": 2,
    }
    assert stats["hugetlb"]["2MB"]["usage"] == 2097152
    assert manager.oom_kill_count() == 1


def test_destroy_deepest_first(v2: FakeKernel, manager: V2Manager) -> None:
    v2.mkdir(f"{manager.path}/a")
    v2.mkdir(f"{manager.path}/a/b")
    manager.destroy()
    assert not Path(manager.path).exists()
    assert (v2.root / "box").exists()
    manager.destroy()
