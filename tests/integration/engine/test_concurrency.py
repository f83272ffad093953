"""Many dockyard processes at once: nothing lost, duplicated or leaked (the fixture checks
for monitors, mounts, cgroups, run dirs and snapshots left behind)."""

from __future__ import annotations

import subprocess

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages

N = 20

pytestmark = pytest.mark.slow


def parallel(dockyard: Dockyard, commands: list[list[str]]) -> list[tuple[int, str, str]]:
    procs = [
        dockyard.popen(
            *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        for argv in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out.decode(), err.decode()))
    return results


def test_twenty_runs_of_one_name_make_one_container(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    runs = parallel(
        dockyard, [["run", "-d", "--name", "same", engine_images.busybox, "sleep", "1000"]] * N
    )

    winners = [r for r in runs if r[0] == 0]
    assert len(winners) == 1, runs
    for code, _, err in runs:
        if code:
            assert code == 125 and 'name "/same" is already in use' in err, err
    assert dockyard.ids() == [winners[0][1].strip()]
    assert dockyard.inspect("same")["State"]["Status"] == "running"  # type: ignore[index]

    removals = parallel(dockyard, [["rm", "-f", "same"]] * N)

    assert all(code == 0 for code, _, _ in removals), removals
    assert dockyard.ids() == []


def test_twenty_runs_of_different_names_then_twenty_removals(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    runs = parallel(
        dockyard,
        [
            [
                "run",
                "-d",
                "--name",
                f"c{i}",
                "-v",
                "shared:/s",
                engine_images.busybox,
                "sleep",
                "1000",
            ]
            for i in range(N)
        ],
    )

    assert all(code == 0 for code, _, _ in runs), [r for r in runs if r[0]]
    ids = {out.strip() for _, out, _ in runs}
    assert len(ids) == N
    assert set(dockyard.ids()) == ids
    listed = dockyard.run("ps", "--format", "{{.Names}} {{.State}}").stdout.splitlines()
    assert sorted(listed) == sorted(f"c{i} running" for i in range(N))
    assert dockyard.run("volume", "ls", "-q").stdout == "shared\n"

    removals = parallel(dockyard, [["rm", "-f", f"c{i}"] for i in range(N)])

    assert all(code == 0 for code, _, _ in removals), [r for r in removals if r[0]]
    assert dockyard.ids() == []
    assert dockyard.run("volume", "rm", "shared").returncode == 0
