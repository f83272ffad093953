"""Runtime commands run at the same time on one container: each is whole,
none undoes another, and a delete wins cleanly over the updates racing it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

import pytest

from tests.integration.runtime.containers import run_sleeper
from tests.integration.runtime.inside import RUNTIME_NAME
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

#: update flags that each change a different limit, and where the spec keeps it
UPDATES = {
    "--memory=64m": ("memory", "limit", 64 << 20),
    "--memory-reservation=32m": ("memory", "reservation", 32 << 20),
    "--pids-limit=321": ("pids", "limit", 321),
    "--cpu-share=512": ("cpu", "shares", 512),
    "--cpu-period=200000": ("cpu", "period", 200000),
    "--cpuset-cpus=0": ("cpu", "cpus", "0"),
}


def in_parallel(runtime: Runtime, commands: Sequence[Sequence[str]]) -> list[tuple[int, str]]:
    """Start every command at once, then wait for all: (status, stderr) of each."""
    processes = [
        subprocess.Popen(
            [runtime.executable, "--root", str(runtime.root), *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    return [(process.wait(timeout=60), process.communicate()[1]) for process in processes]


def test_parallel_updates_all_succeed(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)

    for _ in range(4):  # a few rounds: the collisions are timing-dependent
        results = in_parallel(runtime, [["update", flag, container_id] for flag in UPDATES])

        assert [status for status, _ in results] == [0] * len(UPDATES), results
        assert all(not stderr for _, stderr in results), results
    assert runtime.state(container_id)["status"] == "running"


@pytest.mark.skipif(
    RUNTIME_NAME != "dockyard",
    reason="reads dockyard-runtime's state.json; runc keeps its own record, which its "
    "unlocked updates overwrite whole (runc is wrong there too)",
)
def test_parallel_updates_of_different_limits_are_all_kept(
    runtime: Runtime, bundle: Bundle
) -> None:
    container_id = run_sleeper(runtime, bundle)

    for _ in range(4):
        in_parallel(runtime, [["update", flag, container_id] for flag in UPDATES])

        state = json.loads((runtime.root / container_id / "state.json").read_text())
        resources = state["config"]["linux"]["resources"]
        kept = {
            flag: resources.get(section, {}).get(key) == value
            for flag, (section, key, value) in UPDATES.items()
        }
        assert all(kept.values()), kept


def test_a_delete_racing_updates_removes_the_container(runtime: Runtime, bundle: Bundle) -> None:
    container_id = run_sleeper(runtime, bundle)
    commands = [["update", "--pids-limit=100", container_id] for _ in range(6)]
    commands.insert(3, ["delete", "--force", container_id])

    results = in_parallel(runtime, commands)

    deleted = results[3]
    assert deleted == (0, ""), deleted
    # An update runs before the delete, or after it and is refused as for any
    # missing container. runc takes no lock across its processes, so there an
    # update can also find the container killed but not yet removed (runc is
    # wrong there: a delete is not seen half done).
    refusals = ["does not exist"] + (["container not running"] if RUNTIME_NAME == "runc" else [])
    for status, stderr in results[:3] + results[4:]:
        refused = any(words in stderr for words in refusals) and len(stderr.splitlines()) == 1
        assert status == 0 or refused, (status, stderr)
    assert runtime("state", container_id, check=False).returncode != 0
    assert not (runtime.root / container_id).exists()
