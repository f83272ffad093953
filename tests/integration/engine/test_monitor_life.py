"""No daemon and no Python per container: the monitor holds the container after the CLI
is gone, cleans up when the CLI cannot, and a foreground CLI passes signals on."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.support import leaks
from tests.support.wait import wait_for


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def status(dockyard: Dockyard, name: str) -> str:
    return dockyard.run(
        "ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.State}}"
    ).stdout.strip()


def running(dockyard: Dockyard, name: str) -> bool:
    return status(dockyard, name) == "running"


def test_a_detached_container_is_held_by_its_monitor_alone(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("run", "-d", "--name", "held", engine_images.busybox, "sleep", "1000")
    pid = dockyard.inspect("held")["State"]["Pid"]
    assert isinstance(pid, int)

    monitor = parent_of(pid)

    assert Path(f"/proc/{monitor}/comm").read_text().strip().startswith("dockyard-monito")
    cmdline = Path(f"/proc/{monitor}/cmdline").read_bytes()
    assert b"python" not in cmdline
    # nothing else of ours runs for it: its monitor is the only process naming its id
    cid = dockyard.inspect("held")["Id"]
    # (processes_mentioning passes over a process that ends while it looks)
    assert leaks.processes_mentioning(str(cid), exclude=(pid, monitor)) == {}


def test_a_killed_foreground_cli_leaves_the_cleanup_to_the_monitor(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    cli = dockyard.popen(
        "run", "--name", "orphan", engine_images.busybox, "sh", "-c", "sleep 1; echo finished",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: running(dockyard, "orphan"), "orphan to run", timeout=30)
    cli.send_signal(signal.SIGKILL)
    cli.wait()

    assert dockyard.run("wait", "orphan", timeout=60).stdout == "0\n"
    wait_for(lambda: status(dockyard, "orphan") == "exited", "orphan's cleanup", timeout=30)
    assert dockyard.run("logs", "orphan").stdout == "finished\n"
    # the exit command ran the cleanup: no monitor files, no mount
    runs = dockyard.run_root / "c"
    wait_for(lambda: not runs.exists() or not list(runs.iterdir()), "no run dirs", timeout=30)


def test_a_killed_foreground_cli_with_rm_still_removes_everything(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    cli = dockyard.popen(
        "run", "--rm", "--name", "gone", engine_images.busybox, "sleep", "1",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: running(dockyard, "gone"), "gone to run", timeout=30)
    cli.send_signal(signal.SIGKILL)
    cli.wait()

    wait_for(lambda: dockyard.ids() == [], "the exit command's rm", timeout=60)


def test_the_foreground_cli_passes_signals_to_the_container(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    cli = dockyard.popen(
        "run", "--rm", engine_images.busybox, "sh", "-c",
        "trap 'echo caught; exit 9' INT; echo ready; while :; do sleep 0.1; done",
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert cli.stdout is not None
    assert cli.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    os.kill(cli.pid, signal.SIGINT)

    assert cli.wait(timeout=30) == 9
    assert cli.stdout.read() == b"caught\n"
    cli.stdout.close()
