"""``logs`` after restarts and rotations, and ``logs -f`` following across both."""

from __future__ import annotations

import subprocess

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.support.procs import reaped
from tests.support.wait import read_until, wait_for

COUNTER = 'i=0; while :; do echo "run-$i"; i=$((i+1)); sleep 0.1; done'


def _follow(dockyard: Dockyard, name: str) -> subprocess.Popen[bytes]:
    return dockyard.popen("logs", "-f", name, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_logs_keep_every_run_after_restarts(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "again", engine_images.busybox,
        "sh", "-c", "echo started; exec sleep 1000",
    )  # fmt: skip

    def logged(runs: int) -> None:
        # each run's line is in the log before the next restart can kill the run
        wait_for(lambda: dockyard.run("logs", "again").stdout == "started\n" * runs, f"{runs} runs")

    logged(1)
    dockyard.run("restart", "-t", "0", "again")
    logged(2)
    dockyard.run("restart", "-t", "0", "again")
    logged(3)


def test_follow_goes_on_across_a_restart(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "counter", engine_images.busybox,
        "sh", "-c", COUNTER,
    )  # fmt: skip
    follower = _follow(dockyard, "counter")
    with reaped(follower):
        assert follower.stdout is not None
        # following the first run (its start-up may take seconds on a loaded machine)
        seen = read_until(follower.stdout, lambda got: b"run-3\n" in got, "the first run")
        dockyard.run("restart", "-t", "1", "counter")
        seen = read_until(
            follower.stdout, lambda got: got.count(b"run-3\n") == 2, "the second run", got=seen
        )
        assert follower.poll() is None, "logs -f ended at the restart"
        dockyard.run("stop", "-t", "1", "counter")
        rest, _ = follower.communicate(timeout=60)  # ends once the container stopped for good
    out = seen + rest
    lines = out.decode().split()
    assert lines.count("run-0") == 2, lines  # the first run's lines, then the second's
    second = lines.index("run-0", 1)
    assert lines[:second] == [f"run-{i}" for i in range(second)]
    assert lines[second:] == [f"run-{i}" for i in range(len(lines) - second)]
    assert out.decode() == dockyard.run("logs", "counter").stdout


def test_follow_goes_on_across_rotations(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    # 400 lines of ~30 bytes of JSON-wrapped text each: the 1 kB files rotate many times;
    # they start once the follower follows (it has shown "ready"), however slow its start.
    # A follower may lag by up to max-file files (here ~90 lines, ~1 s) and lose nothing.
    script = (
        "echo ready; while [ ! -e /tmp/go ]; do usleep 10000; done; "
        "i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); usleep 10000; done"
    )
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "chatty", "--log-opt", "max-size=1k",
        "--log-opt", "max-file=3", engine_images.busybox, "sh", "-c", script,
    )  # fmt: skip
    follower = _follow(dockyard, "chatty")
    with reaped(follower):
        assert follower.stdout is not None
        seen = read_until(follower.stdout, lambda got: b"ready\n" in got, "the follower")
        dockyard.run("exec", "chatty", "touch", "/tmp/go")
        rest, err = follower.communicate(timeout=120)
    assert follower.returncode == 0, err
    assert (seen + rest).decode().split() == ["ready", *(f"line-{i}" for i in range(1, 401))]
    kept = dockyard.run("logs", "chatty").stdout.split()
    assert 0 < len(kept) < 400 and kept[-1] == "line-400"  # older files were dropped
    assert kept == [f"line-{i}" for i in range(401 - len(kept), 401)]


def test_follow_goes_on_across_a_restart_policy(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    """on-failure:2: the first run and two restarts, each after a backoff, then the end."""
    dockyard.run(
        "run", "-d", "--name", "flaky", "--restart", "on-failure:2", engine_images.busybox,
        "sh", "-c", "sleep 0.5; echo ran; exit 1",
    )  # fmt: skip
    follower = _follow(dockyard, "flaky")
    out, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert out.decode() == "ran\n" * 3
    assert dockyard.inspect("flaky")["RestartCount"] == 2
