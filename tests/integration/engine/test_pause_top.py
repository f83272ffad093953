"""``pause``, ``unpause`` and ``top``, with Dockyard's runtime and with runc."""

from __future__ import annotations

import time

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"


def _lines(dockyard: Dockyard, name: str) -> int:
    return len(dockyard.run("logs", name).stdout.split())


def _grows(dockyard: Dockyard, name: str, seconds: float = 10.0) -> bool:
    """The log gains a line within ``seconds`` (a line comes every 0.05 s when running;
    the bound only allows for a loaded machine)."""
    before = _lines(dockyard, name)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if _lines(dockyard, name) > before:
            return True
    return False


def _settled(dockyard: Dockyard, name: str) -> None:
    """Wait until the log stops changing: lines read before the freeze may still be
    on their way through the monitor."""
    last = _lines(dockyard, name)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = _lines(dockyard, name)
        if now == last:
            return
        last = now


def test_pause_freezes_and_unpause_thaws(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--name", "counter", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", COUNTER,
    )  # fmt: skip
    assert _grows(dockyard, "counter")

    assert dockyard.run("pause", "counter").stdout == "counter\n"
    _settled(dockyard, "counter")

    assert not _grows(dockyard, "counter", seconds=1.0)
    state = dockyard.inspect("counter")["State"]
    assert state["Status"] == "paused" and state["Paused"] is True  # type: ignore[index]
    assert state["Running"] is True  # type: ignore[index]  # as Docker: paused is running too
    assert dockyard.run("ps", "--format", "{{.Status}}").stdout.strip().endswith("(Paused)")

    again = dockyard.run("pause", "counter", check=False)
    assert again.returncode == 1
    assert "is already paused" in again.stderr

    assert dockyard.run("unpause", "counter").stdout == "counter\n"
    assert _grows(dockyard, "counter")
    assert dockyard.inspect("counter")["State"]["Status"] == "running"  # type: ignore[index]
    not_paused = dockyard.run("unpause", "counter", check=False)
    assert not_paused.returncode == 1
    assert "is not paused" in not_paused.stderr


def test_a_paused_container_can_be_killed_stopped_and_removed(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    for name in ("killed", "stopped", "removed"):
        dockyard.run(
            "run", "-d", "--name", name, "--runtime", runtime, engine_images.busybox,
            "sleep", "1000",
        )  # fmt: skip
        dockyard.run("pause", name)

    dockyard.run("kill", "killed")
    # sleep as pid 1 takes no SIGTERM: stop ends it with SIGKILL after the timeout
    started = time.monotonic()
    dockyard.run("stop", "-t", "1", "stopped")
    took = time.monotonic() - started
    dockyard.run("rm", "-f", "removed")

    assert dockyard.run("wait", "killed").stdout == "137\n"
    assert dockyard.inspect("stopped")["State"]["ExitCode"] == 137  # type: ignore[index]
    # not thawed, the SIGKILL would wait (30 s) on a frozen process; the bound leaves room
    # for the CLI's start-up on a loaded machine
    assert took < 20, f"stop of a paused container took {took:.1f} s"
    assert "removed" not in dockyard.run("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_pause_of_a_container_that_is_not_running_is_refused(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("create", "--name", "idle", engine_images.busybox, "true")

    result = dockyard.run("pause", "idle", check=False)

    assert result.returncode == 1
    assert "is not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_top_lists_the_containers_processes_as_docker_prints_them(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--name", "busy", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", "sleep 1000 & exec sleep 2000",
    )  # fmt: skip

    lines = dockyard.run("top", "busy").stdout.splitlines()

    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert lines[0].startswith("UID" + " " * 17 + "PID")  # Docker's tabwriter: 20 wide at least
    commands = sorted(line.split(None, 7)[7] for line in lines[1:])
    assert commands == ["sleep 1000", "sleep 2000"]  # only the container's, not the host's
    ps_style = dockyard.run("top", "busy", "-o", "pid,comm").stdout.splitlines()
    assert ps_style[0].split() == ["PID", "COMMAND"]
    assert sorted(line.split()[1] for line in ps_style[1:]) == ["sleep", "sleep"]


def test_top_of_a_stopped_container_and_bad_ps_options(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("run", "--name", "done", engine_images.busybox, "true")
    dockyard.run("run", "-d", "--name", "up", engine_images.busybox, "sleep", "1000")

    stopped = dockyard.run("top", "done", check=False)
    bad = dockyard.run("top", "up", "--no-such-option", check=False)
    no_pid = dockyard.run("top", "up", "-o", "comm", check=False)

    assert stopped.returncode == 1 and "is not running" in stopped.stderr
    assert bad.returncode == 1 and "Error running ps" in bad.stderr
    assert no_pid.returncode == 1 and "Couldn't find PID field" in no_pid.stderr
    for result in (stopped, bad, no_pid):
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_python_api_pauses_and_lists_processes(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    with dockyard_client(dockyard) as client:
        box = client.containers.run(engine_images.busybox, ["sleep", "1000"], detach=True)
        box.pause()
        box.reload()
        assert box.status == "paused"
        box.unpause()
        box.reload()
        assert box.status == "running"

        found = box.top()
        assert found["Titles"][:2] == ["UID", "PID"]
        assert [row[-1] for row in found["Processes"]] == ["sleep 1000"]
        assert box.top(ps_args="-o pid,args")["Titles"] == ["PID", "COMMAND"]
