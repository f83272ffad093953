"""The store under a crowd: pulls, rmi, prune, tag and check at once, for a while.

Every `system check` taken meanwhile (it waits until no operation runs) must
find the store consistent, removals it owes aside; at the end the store is
consistent with nothing left over. Commands may lose a race (rmi of a name
another rmi took, a tag of an image just removed), but only with one line
saying so, never with a traceback.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.image.conftest import DOCKYARD, Dockyard, Registry, Result, SampleImages
from tests.integration.image.racing import consistent
from tests.integration.image.test_concurrency import push, random_image

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DURATION = 35.0
# How a command may lose a race: one line, saying why.
LOST_RACE = ("No such image", "no such image", "in use by", "must be forced")


class Crowd:
    def __init__(self, dockyard: Dockyard, seconds: float) -> None:
        self.dockyard = dockyard
        self.deadline = time.monotonic() + seconds
        self.results: list[tuple[list[str], Result]] = []
        self.lock = threading.Lock()

    def run(self, *args: str) -> Result:
        proc = subprocess.run(
            [str(DOCKYARD), *args], env=self.dockyard.env, capture_output=True, timeout=120
        )
        result = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
        with self.lock:
            self.results.append((list(args), result))
        return result

    def loop(self, step: Callable[[random.Random], None], seed: int) -> threading.Thread:
        rng = random.Random(seed)

        def body() -> None:
            while time.monotonic() < self.deadline:
                step(rng)

        thread = threading.Thread(target=body)
        thread.start()
        return thread


def test_pulls_rmi_prune_tag_and_check_at_once(
    dockyard: Dockyard, registry: Registry, tmp_path: Path, test_images: SampleImages
) -> None:
    names = []
    for i in range(3):  # each on busybox, as real images share a base
        name = f"{registry.host}/stress/img{i}:1"
        push(dockyard, tmp_path, name, random_image(2, 4, base=test_images.single))
        names.append(name)
    store = Dockyard(tmp_path / "crowded", tmp_path / "crowded-config")
    store.run("load", "-q", "-i", str(test_images.layout))
    crowd = Crowd(store, DURATION)
    tags = [f"stress/tag{i}:1" for i in range(4)]

    def pull(rng: random.Random) -> None:
        crowd.run("pull", "-q", rng.choice(names))

    def remove(rng: random.Random) -> None:
        crowd.run("rmi", *rng.sample(names + tags, 2))
        time.sleep(rng.uniform(0, 0.3))

    def prune(rng: random.Random) -> None:
        time.sleep(rng.uniform(0.5, 2))
        crowd.run("image", "prune", "-a", "-f")

    def tag(rng: random.Random) -> None:
        crowd.run("tag", rng.choice([*names, "bb-multi"]), rng.choice(tags))

    def check(rng: random.Random) -> None:
        time.sleep(rng.uniform(0.5, 2))
        crowd.run("system", "check", "--no-repair", "--quick")

    threads = [
        crowd.loop(pull, 1),
        crowd.loop(pull, 2),
        crowd.loop(pull, 3),
        crowd.loop(remove, 4),
        crowd.loop(prune, 5),
        crowd.loop(tag, 6),
        crowd.loop(check, 7),
    ]
    for thread in threads:
        thread.join()

    counts: dict[str, int] = {}
    for args, result in crowd.results:
        verb = args[0] if args[0] != "image" else "prune"
        counts[verb] = counts.get(verb, 0) + 1
        assert "Traceback" not in result.stderr, (args, result)
        if args[0] == "system":
            assert result.returncode == 0, (args, result)
            assert result.stdout.endswith("the store is consistent\n"), (args, result)
            assert "problem:" not in result.stdout, (args, result)
        elif result.returncode != 0:  # one line per image that lost its race
            for line in result.stderr.strip().splitlines():
                assert any(why in line for why in LOST_RACE), (args, result)
    assert counts.keys() == {"pull", "rmi", "prune", "tag", "system"}, counts
    assert counts["pull"] >= 10 and counts["system"] >= 5, counts
    consistent(store)
