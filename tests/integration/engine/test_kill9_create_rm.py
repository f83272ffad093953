"""SIGKILL of ``create``/``run -d`` at set points of its work while ``rm -f`` of the same
name runs: the CLI is stopped (SIGSTOP) the moment its lock file, snapshot, bundle, run
directory, runtime state or network namespace appears, ``rm -f`` is started (and waits on
the container lock, or finds no container yet), then the CLI is killed. The next command
sees a consistent state, a container the rm did not find is whole (it starts, it goes),
and ``system check`` repairs whatever else is left (a lock file taken before the record
was written, a network namespace of a start cut short). Without the rm, what a killed
create left is started by the very next command."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages
from tests.integration.engine.test_kill9 import _listing, _no_ghosts, _repaired

pytestmark = pytest.mark.slow

ROUNDS = 2  # per point and runtime


def _popen(dockyard: Dockyard, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DOCKYARD), *args],
        env=dockyard.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _entries(directory: Path) -> set[str]:
    try:
        return set(os.listdir(directory))
    except FileNotFoundError:
        return set()


def _wait_for_new(directory: Path, before: set[str], proc: subprocess.Popen[bytes]) -> None:
    """Until an entry appears in ``directory`` or ``proc`` ends (the point was passed
    too fast, or never comes for this verb: the kill then meets a finished CLI)."""
    deadline = time.monotonic() + 60
    while not (_entries(directory) - before) and proc.poll() is None:
        assert time.monotonic() < deadline, f"nothing appeared in {directory}"
        time.sleep(0.0005)


def _wait_blocked_or_done(proc: subprocess.Popen[bytes]) -> None:
    """Until ``rm -f`` waits on the container lock, or has ended (it found no container);
    bounded: without either in 10 s the kill below still makes a race of it."""
    deadline = time.monotonic() + 10
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/wchan") as f:
                if "lock" in f.read():
                    return
        except FileNotFoundError:
            return
        time.sleep(0.005)


def _points(dockyard: Dockyard) -> dict[str, Path]:
    """Where each step of create (then run -d's start) shows, in the order they come."""
    return {
        "lock file": dockyard.run_root / "locks",
        "snapshot": dockyard.root / "snapshots",
        "bundle": dockyard.root / "containers",
        "run directory": dockyard.run_root / "c",  # run -d's start from here on
        "runtime state": dockyard.run_root / "runtime",
        "network namespace": dockyard.run_root / "netns",
    }


STARTS = ("run directory", "runtime state", "network namespace")


def _stopped_at(
    dockyard: Dockyard, image: str, name: str, point: str, directory: Path, rng: random.Random
) -> subprocess.Popen[bytes]:
    """``create`` (or ``run -d``, for a start's points) stopped (SIGSTOP) at ``point``."""
    if point in STARTS or rng.random() < 0.5:
        kind: tuple[str, ...] = ("run", "-d", image, "sleep", "1000")
    else:
        kind = ("create", image, "sleep", "1000")
    before = _entries(directory)
    maker = _popen(dockyard, kind[0], "--name", name, *kind[1:])
    _wait_for_new(directory, before, maker)
    time.sleep(rng.uniform(0, 0.005))
    maker.send_signal(signal.SIGSTOP)
    return maker


def test_create_killed_at_set_points_while_rm_f_runs(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)
    dockyard.env["DOCKYARD_DEFAULT_RUNTIME"] = runtime
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    i = 0
    for _ in range(ROUNDS):
        for point, directory in _points(dockyard).items():
            name = f"c{i}"
            maker = _stopped_at(dockyard, image, name, point, directory, rng)
            remover = _popen(dockyard, "rm", "-f", "-v", name)
            _wait_blocked_or_done(remover)
            maker.send_signal(signal.SIGKILL)
            maker.wait()
            # rm -f of a name not (yet) there succeeds, as Docker's
            assert remover.wait() == 0, (point, seed)
            rows = _listing(dockyard)  # the very next command sees a consistent state
            _no_ghosts(dockyard)
            assert len([row for row in rows if row[1] == name]) <= 1, (point, rows, seed)
            i += 1
    _repaired(dockyard)
    _no_ghosts(dockyard)
    # what is left is whole: it starts, and it goes
    for container_id, name, state in _listing(dockyard):
        if state != "running":
            started = dockyard.run("start", container_id, check=False)
            assert started.returncode == 0, (name, started, seed)
        dockyard.run("rm", "-f", container_id)
    assert _listing(dockyard) == []


def test_a_container_whose_create_was_killed_starts_at_once(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    """No rm this time: the container a killed create or run -d left (whatever it had made
    by then) is started by the very next command, before any system check."""
    image = engine_images.busybox
    dockyard.run("pull", image)
    dockyard.env["DOCKYARD_DEFAULT_RUNTIME"] = runtime
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    for i, (point, directory) in enumerate(_points(dockyard).items()):
        name = f"k{i}"
        maker = _stopped_at(dockyard, image, name, point, directory, rng)
        maker.send_signal(signal.SIGKILL)
        maker.wait()
        for container_id, listed, state in _listing(dockyard):
            if listed == name and state != "running":
                started = dockyard.run("start", container_id, check=False)
                assert started.returncode == 0, (point, started, seed)
            if listed == name:
                assert dockyard.inspect(container_id)["State"]["Running"], (point, seed)  # type: ignore[index]
                dockyard.run("rm", "-f", container_id)
    _repaired(dockyard)
    assert _listing(dockyard) == []
