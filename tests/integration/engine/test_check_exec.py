"""``system check`` finds and removes exec sessions nobody will remove: a client killed after
its monitor's exit command left the removal to it, a killed monitor, sessions of a removed
container; a live session (its monitor running, or its client attached) is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages


@pytest.fixture
def bb(dockyard: Dockyard, engine_images: EngineImages) -> str:
    dockyard.run("pull", engine_images.busybox)
    return engine_images.busybox


def _sessions(dockyard: Dockyard) -> set[str]:
    root = dockyard.run_root / "exec"
    return set(os.listdir(root)) if root.exists() else set()


def _wait(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _new_session(dockyard: Dockyard, before: set[str]) -> Path:
    _wait("the exec session's directory", lambda: len(_sessions(dockyard) - before) == 1)
    [name] = _sessions(dockyard) - before
    return dockyard.run_root / "exec" / name


def _monitor(session: Path) -> int:
    pid_file = session / "monitor.pid"
    _wait("the session's monitor", lambda: pid_file.exists() and pid_file.read_text() != "")
    return int(pid_file.read_text())


def _client_killed_after_the_exit(dockyard: Dockyard, box: str) -> Path:
    """A foreground client stopped while its process ends (the monitor's exit command then
    leaves the removal to it), then killed: its session stays, with the exit status."""
    before = _sessions(dockyard)
    wait_for_go = "while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 3"
    client = subprocess.Popen(
        [str(DOCKYARD), "exec", box, "sh", "-c", wait_for_go],
        env=dockyard.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        session = _new_session(dockyard, before)
        monitor = _monitor(session)
        client.send_signal(signal.SIGSTOP)
        dockyard.run("exec", box, "touch", "/tmp/go")
        _wait("the process's exit", lambda: (session / "exit.json").exists())
        _wait("the session's monitor to end", lambda: _gone(monitor))
    finally:
        client.kill()
        client.wait()
    return session


def test_check_removes_the_sessions_nobody_holds(dockyard: Dockyard, bb: str, runtime: str) -> None:
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "box", bb, "sleep", "1000")
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "other", bb, "sleep", "1000")

    # a live detached session of a running container: never touched
    before = _sessions(dockyard)
    dockyard.run("exec", "-d", "other", "sleep", "1000")
    live = _new_session(dockyard, before)
    _monitor(live)

    # a detached session whose monitor is killed (kill -9, the OOM killer)
    before = _sessions(dockyard)
    dockyard.run("exec", "-d", "box", "sleep", "1000")
    killed = _new_session(dockyard, before)
    monitor = _monitor(killed)
    os.kill(monitor, signal.SIGKILL)
    _wait("the killed monitor", lambda: _gone(monitor))

    stale = _client_killed_after_the_exit(dockyard, "box")
    assert (stale / "exit.json").exists() and stale.exists()

    # and their container removed: its sessions are left as they were
    dockyard.run("rm", "-f", "box")
    assert {killed.name, stale.name, live.name} <= _sessions(dockyard)

    found = dockyard.run("system", "check", "--quick", "--no-repair", check=False)
    assert found.returncode == 1, found
    problems = [line for line in found.stdout.splitlines() if "exec session" in line]
    assert len(problems) == 2, found.stdout
    assert f"problem: exec session {stale.name[:12]} " in found.stdout
    assert "its process exited (3)" in found.stdout
    assert f"problem: exec session {killed.name[:12]} " in found.stdout
    assert _sessions(dockyard) >= {killed.name, stale.name}  # --no-repair repairs nothing

    repaired = dockyard.run("system", "check", "--quick", check=False)
    assert repaired.returncode == 0, repaired
    for session in (killed, stale):
        assert f"repaired: exec session {session.name[:12]}: removed its directory" in (
            repaired.stdout
        )
    assert _sessions(dockyard) == {live.name}
    again = dockyard.run("system", "check", "--quick", "--no-repair", check=False)
    assert again.returncode == 0 and "problem:" not in again.stdout, again

    # the live one still works, and goes with its container
    assert dockyard.run("exec", "other", "echo", "still").stdout == "still\n"
    dockyard.run("rm", "-f", "other")
    _wait("the live session's exit command", lambda: not _sessions(dockyard))


def test_exec_d_of_a_process_that_ends_at_once_leaves_nothing(
    dockyard: Dockyard, bb: str, runtime: str
) -> None:
    """exec -d holds fg.lock until its monitor runs: a process that ended meanwhile (its
    exit command skipped the removal) has its directory removed by exec itself."""
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "box", bb, "sleep", "1000")
    for _ in range(5):
        dockyard.run("exec", "-d", "box", "true")
    _wait("the sessions' removal", lambda: not _sessions(dockyard))
    check = dockyard.run("system", "check", "--quick", "--no-repair", check=False)
    assert check.returncode == 0 and "problem:" not in check.stdout, check
