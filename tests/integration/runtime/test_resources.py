"""Limits and live management through cgroups: OOM, pids, CPU quota, pause,
update, ps. Each is observed for real: the kernel's files, the processes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.runtime.containers import use_script
from tests.support.bundle import Bundle
from tests.support.needs import requires
from tests.support.runtime import Runtime
from tests.support.wait import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

CGROUP_ROOT = Path("/sys/fs/cgroup")
UNIFIED = (CGROUP_ROOT / "cgroup.controllers").exists()


def cgroup_dir(pid: int, controller: str) -> Path:
    """Where ``pid``'s cgroup for ``controller`` is on the host (v1 or v2)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if UNIFIED and controllers == "":
            return CGROUP_ROOT / path.lstrip("/")
        if controller in controllers.split(","):
            return CGROUP_ROOT / controllers / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


def start(runtime: Runtime, bundle: Bundle, script: str, resources: dict | None = None) -> str:
    if resources:
        bundle.config["linux"]["resources"] = resources
    use_script(bundle, script)
    container_id = runtime.new_id()
    runtime.run(bundle, container_id, detach=True, check=True)
    return container_id


def init_pid(runtime: Runtime, container_id: str) -> int:
    pid: int = runtime.state(container_id)["pid"]
    return pid


def test_memory_limit_oom_kills_and_events_say_so(runtime: Runtime, bundle: Bundle) -> None:
    limit = 16 << 20
    cid = start(runtime, bundle, "exec sleep 1000", {"memory": {"limit": limit, "swap": limit}})
    events = subprocess.Popen(
        [runtime.executable, "--root", str(runtime.root), "events", "--interval", "100ms", cid],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert events.stdout is not None
        first = json.loads(events.stdout.readline())  # the stream is up
        assert first["type"] == "stats"
        # tail keeps the one endless "line" of zeros in memory: 64 MiB, over the limit.
        allocation = runtime(
            "exec", cid, "sh", "-c", "head -c 67108864 /dev/zero | tail > /dev/null", check=False
        )
        assert allocation.returncode == 137  # SIGKILLed by the OOM killer
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline and "oom" not in seen:
            line = events.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line)["type"])
        assert "oom" in seen, seen
    finally:
        events.kill()
        events.wait()
        if events.stdout is not None:
            events.stdout.close()


def test_fork_bomb_stops_at_pids_max(runtime: Runtime, bundle: Bundle) -> None:
    # The bomb runs in a subshell: busybox sh gives up when a fork fails.
    cid = start(
        runtime,
        bundle,
        "(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done) 2>/dev/null;"
        " echo done > /bomb-over; exec sleep 1000",
        {"pids": {"limit": 12}},
    )
    wait_for(lambda: (bundle.rootfs / "bomb-over").exists(), "the fork bomb to give up")
    pids_dir = cgroup_dir(init_pid(runtime, cid), "pids")
    assert (pids_dir / "pids.max").read_text().strip() == "12"
    current = int((pids_dir / "pids.current").read_text())
    assert 10 <= current <= 12  # it forked up to the limit, and no further


def test_cpu_quota_holds_usage_near_the_quota(runtime: Runtime, bundle: Bundle) -> None:
    cid = start(
        runtime,
        bundle,
        "while :; do :; done",
        {"cpu": {"quota": 20000, "period": 100000}},
    )
    pid = init_pid(runtime, cid)

    def usage_seconds() -> float:
        if UNIFIED:
            for line in (cgroup_dir(pid, "cpu") / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec"):
                    return int(line.split()[1]) / 1e6
        return int((cgroup_dir(pid, "cpuacct") / "cpuacct.usage").read_text()) / 1e9

    time.sleep(0.3)
    before, started = usage_seconds(), time.monotonic()
    time.sleep(1.5)
    share = (usage_seconds() - before) / (time.monotonic() - started)
    assert 0.1 <= share <= 0.3, f"used {share:.2f} CPUs under a 0.2 CPU quota"


def test_pause_stops_progress_and_resume_restarts_it(runtime: Runtime, bundle: Bundle) -> None:
    cid = start(runtime, bundle, "i=0; while :; do i=$((i+1)); echo $i > /count; done")
    count = bundle.rootfs / "count"

    def read() -> int:
        text = count.read_text().strip()
        return int(text) if text else 0

    wait_for(lambda: count.exists() and read() > 10, "the counter to run")
    runtime("pause", cid)
    assert runtime.state(cid)["status"] == "paused"
    frozen = read()
    time.sleep(0.4)
    assert read() == frozen
    runtime("resume", cid)
    assert runtime.state(cid)["status"] == "running"
    wait_for(lambda: read() > frozen + 10, "the counter to move again")


def test_update_changes_limits_of_a_live_container(runtime: Runtime, bundle: Bundle) -> None:
    cid = start(runtime, bundle, "exec sleep 1000", {"pids": {"limit": 100}})
    pid = init_pid(runtime, cid)
    runtime("update", "--memory", str(64 << 20), "--pids-limit", "42", cid)
    assert (cgroup_dir(pid, "pids") / "pids.max").read_text().strip() == "42"
    memory = cgroup_dir(pid, "memory")
    limit_file = memory / ("memory.max" if UNIFIED else "memory.limit_in_bytes")
    assert int(limit_file.read_text()) == 64 << 20


def test_update_from_a_resources_file(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    cid = start(runtime, bundle, "exec sleep 1000")
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"pids": {"limit": 33}}))
    runtime("update", "-r", resources, cid)
    assert (cgroup_dir(init_pid(runtime, cid), "pids") / "pids.max").read_text().strip() == "33"


def test_ps_lists_exactly_the_containers_processes(runtime: Runtime, bundle: Bundle) -> None:
    cid = start(runtime, bundle, "sleep 1000 & sleep 1000 & exec sleep 1000")
    pid = init_pid(runtime, cid)
    ns = os.readlink(f"/proc/{pid}/ns/pid")

    def in_container() -> set[int]:
        found = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                        found.add(int(entry))
                except OSError:
                    continue
        return found

    expected = wait_for(lambda: in_container() if len(in_container()) == 3 else None, "3 procs")
    assert set(json.loads(runtime("ps", "--format", "json", cid).stdout)) == expected
    table = runtime("ps", cid).stdout.splitlines()
    assert "PID" in table[0].split()
    assert {int(row.split()[1]) for row in table[1:]} == expected


@pytest.mark.skipif(UNIFIED, reason="the v1 devices controller's list; v2 has no devices.list")
def test_devices_list_shows_what_a_deny_all_then_allows_leaves(
    runtime: Runtime, bundle: Bundle
) -> None:
    rules = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
        {"allow": True, "type": "b", "major": 7, "access": "r"},
        {"allow": True, "type": "c", "major": -1, "minor": -1, "access": "m"},  # -1: any
    ]
    container_id = start(runtime, bundle, "exec sleep 1000", {"devices": rules})

    listing = (cgroup_dir(init_pid(runtime, container_id), "devices") / "devices.list").read_text()

    lines = listing.splitlines()
    assert {"c 10:229 rwm", "b 7:* r", "c *:* m"} <= set(lines), listing
    assert "a *:* rwm" not in lines
