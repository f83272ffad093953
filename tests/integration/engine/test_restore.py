"""``system restore`` after a simulated reboot: every monitor and container process
killed, cgroups, mounts and the run root gone, the records left saying "running".
It brings back what Docker's daemon brings back at its start, and marks the rest
exited (255), on Dockyard's runtime and on runc."""

from __future__ import annotations

import shutil
import time

from tests.integration.engine.conftest import (
    CGROUP_V1_ROOT,
    Dockyard,
    EngineImages,
    monitors_of,
)
from tests.support import leaks
from tests.support.wait import wait_for


def simulate_reboot(dy: Dockyard) -> None:
    """What a reboot leaves: the store and its records; no process, cgroup, mount or
    run root. The monitors go first, so that no exit is recorded."""
    # A scan of /proc is not atomic: a restart handing over from one process to the
    # next may slip through one. Scan and kill until two scans in a row find nothing.
    quiet = 0
    deadline = time.monotonic() + 30
    while quiet < 2:
        assert time.monotonic() < deadline, f"still running: {monitors_of(dy)}"
        found = monitors_of(dy)
        leaks.kill_processes(found)
        cgroups = set()
        for hierarchy in CGROUP_V1_ROOT.iterdir():
            parent = hierarchy / dy.cgroup_parent.strip("/")
            if parent.is_dir():
                cgroups |= {p for p in parent.iterdir() if p.is_dir()}
        leaks.remove_cgroups(leaks.with_descendants(cgroups))  # kills what runs in them
        quiet = 0 if found or cgroups else quiet + 1
        time.sleep(0.1)
    leaks.unmount(leaks.mounts_under(dy.root) + leaks.mounts_under(dy.run_root))
    shutil.rmtree(dy.run_root)


def state(dy: Dockyard, name: str) -> dict[str, object]:
    found = dy.inspect(name)["State"]
    assert isinstance(found, dict)
    return found


def test_restore_after_a_reboot_brings_back_what_docker_brings_back(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    bb = engine_images.busybox
    dockyard.run("pull", bb)

    def run(name: str, *flags: str) -> None:
        dockyard.run(
            "run", "-d", "--name", name, "--runtime", runtime, *flags,
            bb, "sh", "-c", "echo up; exec sleep 1000",
        )  # fmt: skip

    run("always", "--restart", "always")
    run("unless", "--restart", "unless-stopped")
    run("unless-stopped-by-hand", "--restart", "unless-stopped")
    run("always-stopped-by-hand", "--restart", "always")
    run("plain")
    run("failing", "--restart", "on-failure:2")
    run("removed", "--rm")
    dockyard.run("create", "--name", "never-started", "--restart", "always", bb, "true")
    dockyard.run("stop", "-t", "0", "unless-stopped-by-hand", "always-stopped-by-hand")
    before = state(dockyard, "always")["Pid"]

    simulate_reboot(dockyard)
    out = dockyard.run("system", "restore").stdout

    running = {"always", "unless", "always-stopped-by-hand", "failing"}
    for name in running:
        now = state(dockyard, name)
        assert (name, now["Status"]) == (name, "running")
        assert now["Pid"] not in (0, before)
        assert dockyard.inspect(name)["RestartCount"] == 0  # a fresh start, as the daemon's
    assert (state(dockyard, "plain")["Status"], state(dockyard, "plain")["ExitCode"]) == (
        "exited",
        255,
    )
    assert state(dockyard, "unless-stopped-by-hand")["Status"] == "exited"
    assert state(dockyard, "unless-stopped-by-hand")["ExitCode"] == 137
    assert state(dockyard, "never-started")["Status"] == "created"
    assert "removed" not in dockyard.run("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert "plain: its end was not seen: exited (255)" in out
    assert "always: started (restart policy)" in out
    assert "removed: removed (--rm)" in out
    # the same container, the same log: its output of both boots
    wait_for(lambda: dockyard.run("logs", "always").stdout == "up\nup\n", "the new output")

    # again: nothing that runs is touched
    pids = {name: state(dockyard, name)["Pid"] for name in running}
    assert dockyard.run("system", "restore").stdout == ""
    assert {name: state(dockyard, name)["Pid"] for name in running} == pids


def test_restore_of_a_restarting_container_and_a_live_one(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    bb = engine_images.busybox
    dockyard.run("pull", bb)
    dockyard.run("run", "-d", "--name", "live", "--restart", "always", bb, "sleep", "1000")
    dockyard.run(
        "run", "-d", "--name", "loop", "--restart", "on-failure:50",
        bb, "sh", "-c", "sleep 0.3; exit 1",
    )  # fmt: skip
    wait_for(
        lambda: int(dockyard.inspect("loop")["RestartCount"]) >= 4,  # type: ignore[call-overload]
        "a few restarts",
        timeout=30,
    )
    live = state(dockyard, "live")["Pid"]

    dockyard.run("system", "restore")  # no reboot: the live one is left alone

    assert state(dockyard, "live")["Pid"] == live
    simulate_reboot(dockyard)
    before = int(dockyard.inspect("loop")["RestartCount"])  # type: ignore[call-overload]
    dockyard.run("system", "restore")
    # on-failure with retries left: started afresh (the count from 0, its backoff from
    # 0.1 s), and fails on as before; not as many restarts yet as before the reboot
    assert int(dockyard.inspect("loop")["RestartCount"]) < before  # type: ignore[call-overload]
    assert state(dockyard, "live")["Status"] == "running"
