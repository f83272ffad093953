"""No daemon and no Python per container: the monitor holds the container after the CLI
is gone, cleans up when the CLI cannot, and a foreground CLI passes signals on."""

from __future__ import annotations

import os
import signal
import subprocess
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
    # (once the runtime's own start-up processes, which may still be exiting as `run -d`
    # returns on a loaded machine, are gone)
    cid = dockyard.inspect("held")["Id"]
    wait_for(
        lambda: leaks.processes_mentioning(str(cid), exclude=(pid, monitor)) == {},
        "the monitor to be the only process naming the container",
        timeout=30,
    )


# The container runs until the test creates `go` in its bind-mounted directory: a fixed
# `sleep 1` could end before a `ps` (a Python start-up, seconds on a loaded machine) saw it
# running, and the test then waited for "running" in vain.
UNTIL_GO = "while [ ! -e /sig/go ]; do sleep 0.05; done"


def test_a_killed_foreground_cli_leaves_the_cleanup_to_the_monitor(
    dockyard: Dockyard, engine_images: EngineImages, tmp_path: Path
) -> None:
    dockyard.run("pull", engine_images.busybox)
    sig = tmp_path / "sig"
    sig.mkdir()
    cli = dockyard.popen(
        "run", "--name", "orphan", "-v", f"{sig}:/sig", engine_images.busybox,
        "sh", "-c", f"{UNTIL_GO}; echo finished",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: running(dockyard, "orphan"), "orphan to run", timeout=60)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    (sig / "go").touch()

    assert dockyard.run("wait", "orphan", timeout=60).stdout == "0\n"
    wait_for(lambda: status(dockyard, "orphan") == "exited", "orphan's cleanup", timeout=30)
    assert dockyard.run("logs", "orphan").stdout == "finished\n"
    # the exit command ran the cleanup: no monitor files, no mount
    runs = dockyard.run_root / "c"
    wait_for(lambda: not runs.exists() or not list(runs.iterdir()), "no run dirs", timeout=30)


def test_a_killed_foreground_cli_with_rm_still_removes_everything(
    dockyard: Dockyard, engine_images: EngineImages, tmp_path: Path
) -> None:
    dockyard.run("pull", engine_images.busybox)
    sig = tmp_path / "sig"
    sig.mkdir()
    cli = dockyard.popen(
        "run", "--rm", "--name", "gone", "-v", f"{sig}:/sig", engine_images.busybox,
        "sh", "-c", UNTIL_GO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(lambda: running(dockyard, "gone"), "gone to run", timeout=60)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    (sig / "go").touch()

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
    # the CLI forwards signals from before it relays any output (engine/run.py's
    # on_started), and the trap is set before `ready`: no need to wait any longer
    assert cli.stdout.readline() == b"ready\n"
    os.kill(cli.pid, signal.SIGINT)

    assert cli.wait(timeout=30) == 9
    assert cli.stdout.read() == b"caught\n"
    cli.stdout.close()
