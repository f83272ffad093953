"""The cgroup backends on the real kernel: v1/hybrid on the dev host, v2 in the guest.

Run the v2 code path with:
    /work/shared/tools/cgroup2-guest --timeout 900 -- \
        .venv/bin/python -m pytest tests/integration/cgroups -q -p no:cacheprovider
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dockyard.cgroups.devices import container_resources, parse_rules, rule_string
from dockyard.cgroups.manager import CgroupManager, manager_for, manager_from_paths
from tests.integration.cgroups.conftest import Spawn
from tests.support.device_rules import DEVICE_LISTS
from tests.support.needs import requires

pytestmark = [pytest.mark.integration, requires("root")]

V2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
#: touches 256 MiB page by page (calloc'ed pages are not charged until written)
MEMORY_HOG = 'b = bytearray(256 << 20); b[::4096] = b"x" * (len(b) // 4096)'


def kernel_file(cgroup: CgroupManager, v1: tuple[str, str], v2: str) -> str:
    """A file's content, from the v1 controller's directory or the v2 one."""
    paths = cgroup.paths()
    path = Path(paths[""], v2) if V2 else Path(paths[v1[0]], v1[1])
    return path.read_text().strip()


def stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def start_inside(cgroup: CgroupManager, spawn: Spawn, script: str) -> subprocess.Popen[str]:
    child = spawn(f"read go; {script}")
    cgroup.apply(child.pid)
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    return child


def wait_until(check: object, timeout: float = 30.0) -> bool:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_create_apply_kill_destroy(cgroup: CgroupManager, spawn: Spawn) -> None:
    for path in cgroup.paths().values():
        assert Path(path, "cgroup.procs").exists(), path
    child = spawn("read go; exec sleep 30")

    cgroup.apply(child.pid)

    assert cgroup.procs() == [child.pid]
    membership = Path(f"/proc/{child.pid}/cgroup").read_text()
    relative = cgroup.paths()["" if V2 else "memory"].split("/sys/fs/cgroup/", 1)[1]
    wanted = "/" + relative.split("/", 1)[1] if not V2 else "/" + relative
    for line in membership.splitlines():
        hierarchy, _, path = line.partition(":")[2].partition(":")
        mounted = V2 or hierarchy in cgroup.paths() or hierarchy.split(",")[0] in cgroup.paths()
        if mounted:
            assert path == wanted, line
    cgroup.kill_all(9)
    assert child.wait(timeout=10) == -9
    assert wait_until(lambda: cgroup.procs() == [])
    cgroup.destroy()
    assert [p for p in cgroup.paths().values() if Path(p).exists()] == []


def test_limits_reach_the_kernel(cgroup: CgroupManager) -> None:
    cgroup.set(
        {
            "memory": {"limit": 64 << 20, "swap": 96 << 20},
            "pids": {"limit": 10},
            "cpu": {"quota": 50000, "period": 100000, "shares": 512},
        }
    )

    assert kernel_file(cgroup, ("memory", "memory.limit_in_bytes"), "memory.max") == str(64 << 20)
    assert kernel_file(cgroup, ("pids", "pids.max"), "pids.max") == "10"
    if V2:
        assert kernel_file(cgroup, ("", ""), "cpu.max") == "50000 100000"
        assert kernel_file(cgroup, ("", ""), "cpu.weight") == "20"  # 1 + 510*9999/262142
        if Path(cgroup.paths()[""], "memory.swap.max").exists():
            assert kernel_file(cgroup, ("", ""), "memory.swap.max") == str(32 << 20)
    else:
        assert kernel_file(cgroup, ("cpu", "cpu.cfs_quota_us"), "") == "50000"
        assert kernel_file(cgroup, ("cpu", "cpu.shares"), "") == "512"
        memsw = Path(cgroup.paths()["memory"], "memory.memsw.limit_in_bytes")
        if memsw.exists():
            assert memsw.read_text().strip() == str(96 << 20)


def test_freeze_stops_the_processes_and_thaw_resumes_them(
    cgroup: CgroupManager, spawn: Spawn
) -> None:
    child = start_inside(cgroup, spawn, "while :; do :; done")
    assert wait_until(lambda: int(stat_fields(child.pid)[11]) > 0)  # it has used CPU

    cgroup.freeze()

    assert cgroup.is_frozen()
    if V2:
        assert "frozen 1" in Path(cgroup.paths()[""], "cgroup.events").read_text()
    else:
        assert Path(cgroup.paths()["freezer"], "freezer.state").read_text().strip() == "FROZEN"
    assert stat_fields(child.pid)[0] != "R"
    before = int(stat_fields(child.pid)[11])  # utime
    time.sleep(0.3)
    assert int(stat_fields(child.pid)[11]) == before

    cgroup.thaw()

    assert not cgroup.is_frozen()
    assert wait_until(lambda: int(stat_fields(child.pid)[11]) > before)


def test_kill_all_kills_every_process(cgroup: CgroupManager, spawn: Spawn) -> None:
    child = start_inside(cgroup, spawn, "sleep 30 & sleep 30 & echo started; wait")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    assert wait_until(lambda: len(cgroup.procs()) == 3)

    cgroup.kill_all(9)

    assert child.wait(timeout=10) == -9
    assert wait_until(lambda: cgroup.procs() == [])


def test_kill_all_with_another_signal(cgroup: CgroupManager, spawn: Spawn) -> None:
    child = start_inside(cgroup, spawn, "exec sleep 30")
    assert wait_until(lambda: cgroup.procs() == [child.pid])
    cgroup.kill_all(15)
    assert child.wait(timeout=10) == -15
    assert not cgroup.is_frozen()


def test_pids_limit_stops_forks(cgroup: CgroupManager, spawn: Spawn) -> None:
    cgroup.set({"pids": {"limit": 4}})

    child = start_inside(
        cgroup,
        spawn,
        # The sleeps must not hold the pipes, or communicate() waits for them.
        "for i in 1 2 3 4 5 6 7 8; do sleep 30 </dev/null >/dev/null 2>&1 & done; echo forked-all",
    )
    _, err = child.communicate(timeout=30)

    assert child.returncode != 0, "the shell forked past pids.max"
    assert len(cgroup.procs()) <= 4
    assert "fork" in err.lower(), err
    events = kernel_file(cgroup, ("pids", "pids.events"), "pids.events")
    assert int(events.split()[1]) > 0  # "max N": forks refused


def test_devices_allow_only_what_the_rules_list(cgroup: CgroupManager, spawn: Spawn) -> None:
    linux = {"resources": {"devices": [{"allow": False, "access": "rwm"}]}}
    resources = container_resources(linux)  # deny all, then runc's defaults
    zero = {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"}
    resources["devices"].remove(zero)
    cgroup.set(resources)

    child = start_inside(
        cgroup,
        spawn,
        "cat /dev/null && echo null-ok; head -c1 /dev/zero >/dev/null && echo zero-ok; true",
    )
    out, err = child.communicate(timeout=30)

    assert "null-ok" in out, err
    assert "zero-ok" not in out
    assert "not permitted" in err.lower(), err


def test_stats_and_oom_kills(cgroup: CgroupManager, spawn: Spawn) -> None:
    cgroup.set({"memory": {"limit": 32 << 20, "swap": 32 << 20}})
    hog = start_inside(cgroup, spawn, f"exec {sys.executable} -c '{MEMORY_HOG}'")

    assert hog.wait(timeout=120) == -9
    assert cgroup.oom_kill_count() >= 1

    sleeper = start_inside(cgroup, spawn, "exec sleep 30")
    assert wait_until(lambda: cgroup.procs() == [sleeper.pid])
    stats = cgroup.stats()
    assert stats["pids"]["current"] == 1
    assert stats["memory"]["usage"]["limit"] == 32 << 20
    assert stats["memory"]["usage"]["usage"] > 0
    assert stats["cpu"]["usage"]["total"] > 0


def test_destroy_removes_nested_cgroups(cgroup: CgroupManager) -> None:
    for path in set(cgroup.paths().values()):
        os.makedirs(f"{path}/inner/deeper")

    cgroup.destroy()

    assert [p for p in cgroup.paths().values() if Path(p).exists()] == []
    cgroup.destroy()  # idempotent


def test_a_rebuilt_manager_can_kill_and_destroy(cgroup: CgroupManager, spawn: Spawn) -> None:
    child = start_inside(cgroup, spawn, "exec sleep 30")
    rebuilt = manager_from_paths(cgroup.paths())

    assert rebuilt.procs() == [child.pid]
    rebuilt.kill_all(9)
    assert child.wait(timeout=10) == -9
    rebuilt.destroy()
    assert [p for p in cgroup.paths().values() if Path(p).exists()] == []


def test_relative_path_lands_under_our_own_cgroup(cgroup_parent: str) -> None:
    manager = manager_for(f"{cgroup_parent.strip('/')}/c2", "c2")
    own = Path("/proc/self/cgroup").read_text()
    try:
        manager.create()
        for line in own.splitlines():
            _, controllers, path = line.split(":", 2)
            key = "" if not controllers else controllers.split(",")[0]
            if key in manager.paths():
                expected = f"{path.rstrip('/')}/{cgroup_parent.strip('/')}/c2"
                assert manager.paths()[key].endswith(expected), (key, manager.paths()[key])
    finally:
        manager.destroy()
        for path in manager.paths().values():
            parent = Path(path).parent
            if parent.exists():
                parent.rmdir()


def v1_devices_written_in_order(parent: Path, rules: list[dict[str, Any]]) -> str:
    """devices.list of a scratch cgroup beside ours after each rule is written
    in turn: the kernel itself applying the list in order."""
    scratch = parent / "dockyard-test-in-order"
    scratch.mkdir()
    try:
        for rule in parse_rules(rules):
            (scratch / ("devices.allow" if rule[0] else "devices.deny")).write_text(
                rule_string(rule)
            )
        return (scratch / "devices.list").read_text()
    finally:
        scratch.rmdir()


@pytest.mark.skipif(V2, reason="the v1 devices controller; v2 uses eBPF (test_bpf_devices.py)")
@pytest.mark.parametrize("rules", DEVICE_LISTS.values(), ids=DEVICE_LISTS.keys())
def test_v1_devices_end_as_the_kernel_ends_them_written_in_order(
    cgroup: CgroupManager, rules: list[dict[str, Any]]
) -> None:
    devices = Path(cgroup.paths()["devices"])

    cgroup.set({"devices": rules})

    assert (devices / "devices.list").read_text() == v1_devices_written_in_order(
        devices.parent, rules
    )
