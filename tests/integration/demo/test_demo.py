"""scripts/demo, the README's first command, end to end: a registry of its own,
an image built offline, pushed, pulled and run with ``dockyard run --rm``;
then nothing of it is left, also after a Ctrl-C. With RUNTIME=runc the demo
runs the container on runc (``--runtime runc``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import leaks, requires

pytestmark = [
    pytest.mark.integration,
    requires("root", "binary:docker-registry", "binary:ss"),
]

DEMO = Path(__file__).resolve().parents[3] / "scripts" / "demo"


def start_demo(*command: str) -> subprocess.Popen[str]:
    """The demo in a session of its own, as from a terminal (Ctrl-C reaches its group)."""
    return subprocess.Popen(
        [DEMO, *command],
        env={**os.environ, "DOCKYARD_DEMO_NO_SETUP": "1"},  # this checkout is set up
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def left_by(demo: subprocess.Popen[str], stderr: str) -> list[str]:
    """What the demo left: its work dir, processes, mounts, cgroup parent."""
    found = re.search(r"\(in (/var/tmp/dockyard-demo\.[^/]+)/registry\)", stderr)
    assert found, stderr
    work = found.group(1)
    left = [f"work dir {work}"] if Path(work).exists() else []
    left += leaks.mounts_under(work)
    processes = leaks.processes_mentioning(f"{work}/", exclude=leaks.ancestors(os.getpid()))
    left += processes.values()
    left += map(str, leaks.cgroups_named(f"dockyard-demo-{demo.pid}"))
    leaks.kill_processes(processes)
    leaks.unmount(leaks.mounts_under(work))
    return left


def test_the_demo_pulls_and_runs_an_image_then_leaves_nothing() -> None:
    demo = start_demo()
    out, err = demo.communicate(timeout=300)

    assert demo.returncode == 0, err
    assert re.search(r"^Hello from [0-9a-f]{12}, a container run by Dockyard$", out, re.M), out
    shown = [line.split()[:3] for line in err.splitlines() if line.startswith("+ dockyard ")]
    assert shown == [
        ["+", "dockyard", "import"],
        ["+", "dockyard", "push"],
        ["+", "dockyard", "rmi"],
        ["+", "dockyard", "pull"],
        ["+", "dockyard", "run"],
    ], err
    run = err.splitlines()[-1]
    assert " run --rm " in run
    runtime = os.environ.get("RUNTIME", "dockyard")
    assert ("--runtime" in run) == (runtime != "dockyard"), run
    assert left_by(demo, err) == []


def test_ctrl_c_during_the_run_leaves_nothing() -> None:
    # The container's shell takes the interrupt (pid 1 would ignore it) and
    # says when it is running; Ctrl-C reaches the demo's whole process group.
    demo = start_demo("sh", "-c", 'trap "exit 130" INT; echo running; while :; do sleep 0.1; done')
    try:
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if line == "running\n":
                break
        assert lines[-1:] == ["running\n"], "".join(lines) + demo.stderr.read()  # type: ignore[union-attr]
        os.killpg(demo.pid, signal.SIGINT)
        err = demo.communicate(timeout=60)[1]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    assert demo.returncode == 130, err
    assert left_by(demo, err) == []
