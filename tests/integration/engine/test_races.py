"""Runs and removals of the same names at the same moment, and parallel ``run --rm``:
nothing lost, duplicated or leaked (test_concurrency.py has runs then removals)."""

from __future__ import annotations

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_concurrency import parallel

pytestmark = pytest.mark.slow

N = 20


def test_runs_and_removals_of_the_same_names_racing(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)
    pairs = N // 2
    commands = []
    for i in range(pairs):
        commands.append(["run", "-d", "--name", f"race{i}", image, "sleep", "1000"])
        commands.append(["rm", "-f", f"race{i}"])

    results = parallel(dockyard, commands)

    for i in range(pairs):
        run, rm = results[2 * i], results[2 * i + 1]
        assert run[0] in (0, 125), run  # 125: the removal took its container mid-start
        assert rm[0] == 0, rm  # rm -f of a missing container is a quiet success
    listed = dockyard.run("ps", "-a", "--format", "{{.Names}} {{.State}}").stdout.splitlines()
    names = [line.split()[0] for line in listed]
    assert len(names) == len(set(names)), listed
    for line in listed:
        name, state = line.split()
        assert name.startswith("race") and state == "running", listed
    started = {results[2 * i][1].strip() for i in range(pairs) if results[2 * i][0] == 0}
    assert set(dockyard.ids()) <= started  # nothing that no run reported
    check = dockyard.run("system", "check", "--quick", "--no-repair", check=False)
    assert "problem:" not in check.stdout, check
    removals = parallel(dockyard, [["rm", "-f", name] for name in names])
    assert all(code == 0 for code, _, _ in removals), removals
    assert dockyard.ids() == []


def test_twenty_foreground_runs_with_rm_at_once(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)

    results = parallel(
        dockyard, [["run", "--rm", image, "sh", "-c", f"echo {i}; exit {i % 3}"] for i in range(N)]
    )

    for i, (code, out, err) in enumerate(results):
        assert (code, out) == (i % 3, f"{i}\n"), (i, code, out, err)
    assert dockyard.ids() == []
