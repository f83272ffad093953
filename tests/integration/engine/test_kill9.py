"""SIGKILL of the CLI at random points of ``run`` and ``rm``: the next command sees a
consistent state, ``ps -a`` shows no ghost or duplicate, and ``system check`` repairs
what is left. (The fixture then checks that nothing at all is left.)"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest
from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages

pytestmark = pytest.mark.slow

SECONDS = 8.0  # per test and runtime: many iterations, the whole file about 40 s


def _popen(dockyard: Dockyard, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DOCKYARD), *args],
        env=dockyard.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _timed(dockyard: Dockyard, *args: str) -> float:
    start = time.monotonic()
    dockyard.run(*args)
    return time.monotonic() - start


def _listing(dockyard: Dockyard) -> list[tuple[str, str, str]]:
    """``ps -a``: it must answer, in one piece, every id and name once."""
    result = dockyard.run(
        "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}", check=False
    )
    assert result.returncode == 0 and result.stderr == "", result
    rows = [tuple(line.split()) for line in result.stdout.splitlines()]
    assert all(len(row) == 3 for row in rows), rows
    ids = [row[0] for row in rows]
    names = [row[1] for row in rows]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names), rows
    return rows  # type: ignore[return-value]


def _no_ghosts(dockyard: Dockyard) -> None:
    """Every container listed is what it says: a running one has its monitor and its
    process; each one can be inspected and removed."""
    for container_id, _name, state in _listing(dockyard):
        info = dockyard.inspect(container_id)
        assert info["State"]["Status"] == state  # type: ignore[index]
        if state == "running":
            pid = info["State"]["Pid"]  # type: ignore[index]
            assert pid and os.path.exists(f"/proc/{pid}"), info
            monitor = dockyard.run_root / "c" / container_id / "monitor.pid"
            assert os.path.exists(f"/proc/{monitor.read_text()}"), info


def _repaired(dockyard: Dockyard) -> None:
    repaired = dockyard.run("system", "check", "--quick", check=False)
    assert repaired.returncode == 0, repaired
    again = dockyard.run("system", "check", "--quick", "--no-repair", check=False)
    assert again.returncode == 0 and "problem:" not in again.stdout, (repaired, again)


def test_run_killed_at_random_points(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)
    took = _timed(dockyard, "run", "-d", "--name", "first", image, "sleep", "1000")
    dockyard.env["DOCKYARD_DEFAULT_RUNTIME"] = runtime  # every run and create below
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    kinds = [
        ("run", "-d", image, "sleep", "1000"),
        ("run", "--rm", image, "sleep", "0.2"),
        ("run", image, "true"),
        ("create", image, "true"),
    ]
    deadline = time.monotonic() + SECONDS
    i = 0
    while time.monotonic() < deadline:
        kind = kinds[i % len(kinds)]
        proc = _popen(dockyard, kind[0], "--name", f"k{i}", *kind[1:])
        time.sleep(rng.uniform(0, took * 1.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _listing(dockyard)  # the very next command sees a consistent state
        i += 1
    assert i >= 5, f"only {i} iterations (seed {seed})"
    time.sleep(0.5)  # --rm containers that ran on end, and their monitors clean up
    _repaired(dockyard)
    _no_ghosts(dockyard)
    names = [row[1] for row in _listing(dockyard)]
    # a name is used once whatever happened; and the names stay usable
    for name in names:
        dockyard.run("rm", "-f", name)
    assert _listing(dockyard) == []
    dockyard.run("run", "--rm", "--name", "k0", image, "true")


def test_rm_killed_at_random_points(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)
    dockyard.env["DOCKYARD_DEFAULT_RUNTIME"] = runtime
    dockyard.run("run", "-d", "--name", "probe", image, "sleep", "1000")
    took = _timed(dockyard, "rm", "-f", "probe")
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    deadline = time.monotonic() + SECONDS
    i = 0
    while time.monotonic() < deadline:
        name = f"r{i}"
        if i % 3 == 2:
            dockyard.run("create", "--name", name, image, "true")
        else:
            dockyard.run("run", "-d", "--name", name, image, "sleep", "1000")
        proc = _popen(dockyard, "rm", "-f", "-v", name)
        time.sleep(rng.uniform(0, took * 1.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rows = _listing(dockyard)
        mine = [row for row in rows if row[1] == name]
        assert len(mine) <= 1, (rows, seed)
        if i % 2:  # half of them: the next rm finishes the job
            dockyard.run("rm", "-f", name)
            assert not [row for row in _listing(dockyard) if row[1] == name], seed
        i += 1
    assert i >= 5, f"only {i} iterations (seed {seed})"
    _repaired(dockyard)
    _no_ghosts(dockyard)
    for container_id, _name, _state in _listing(dockyard):
        dockyard.run("rm", "-f", container_id)
    assert _listing(dockyard) == []
