"""Many dockyard processes on one store at once, and processes killed with -9 mid-way."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.storage.layers import chain_ids
from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_entries,
    write_layout,
)
from tests.integration.image.conftest import DOCKYARD, Dockyard, Registry, SampleImages
from tests.integration.image.racing import (
    StallingProxy,
    consistent,
    run_parallel,
    wait_for,
)
from tests.support import leaks

pytestmark = pytest.mark.integration


def random_image(layers: int, megabytes: int, base: Image | None = None) -> Image:
    """An image of random data (slow enough to be caught mid-way), on ``base``'s layers."""
    return Image(
        [
            *(base.layers if base else []),
            *(
                make_layer(
                    tar_entries(
                        [dir_entry(f"data{n}")]
                        + [
                            file_entry(f"data{n}/{i}", os.urandom(1 << 20))
                            for i in range(megabytes // layers)
                        ]
                    )
                )
                for n in range(layers)
            ),
        ]
    )


def push(dockyard: Dockyard, tmp_path: Path, name: str, image: Image) -> None:
    layout = write_layout(tmp_path / f"layout-{name.replace('/', '_')}", {name: [image]})
    dockyard.run("load", "-i", str(layout))
    dockyard.run("push", name)


@pytest.fixture
def big(dockyard: Dockyard, registry: Registry, tmp_path: Path) -> str:
    """A pushed image of three layers, 24 MB of random data."""
    name = f"{registry.host}/race/big:1"
    push(dockyard, tmp_path, name, random_image(3, 24))
    return name


@pytest.fixture
def fresh(tmp_path: Path, dockyard: Dockyard) -> Dockyard:
    return Dockyard(tmp_path / "fresh", tmp_path / "fresh-config")


@pytest.fixture
def proxy(registry: Registry) -> Iterator[StallingProxy]:
    server = StallingProxy(registry.host)
    yield server
    server.stop()


def no_tracebacks(results: list[object]) -> None:
    bad = [r for r in results if r.returncode != 0 or "Traceback" in r.stderr]  # type: ignore[attr-defined]
    assert bad == [], bad


@pytest.mark.parametrize("round_", range(3))
def test_ten_parallel_pulls_of_one_image(big: str, fresh: Dockyard, round_: int) -> None:
    no_tracebacks(run_parallel(fresh, [["pull", "-q", big]] * 10))

    assert len(fresh.run("images", "-q").stdout.split()) == 1
    consistent(fresh)


def test_parallel_pulls_after_pulls_killed_at_random_points(big: str, fresh: Dockyard) -> None:
    rng = random.Random(10)
    dead = 0
    for _ in range(20):  # until killed pulls leave their operations behind
        if dead >= 2:
            break
        before = set((fresh.root / "tmp").glob("*.lock"))
        procs = [fresh.popen("pull", big) for _ in range(4)]

        def under_way(
            procs: list[subprocess.Popen[bytes]] = procs, before: set[Path] = before
        ) -> bool:
            started = set((fresh.root / "tmp").glob("*.lock")) - before
            return bool(started) or any(p.poll() is not None for p in procs)

        # killed at a random point once they are under way: a fixed pause alone could
        # end, on a loaded machine, before any had started an operation, round after round
        wait_for(under_way, "the pulls to begin", 120)
        time.sleep(rng.uniform(0, 0.5))
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        wait_for(lambda: not leaks.processes_mentioning(big), "the pulls' workers to die")
        if fresh.run("images", "-q").stdout:  # one finished before the kill: again
            fresh.run("rmi", big)
        dead = len(list((fresh.root / "tmp").glob("*.lock")))
    assert dead >= 2, "no two killed pulls left their operations behind in 20 rounds"

    no_tracebacks(run_parallel(fresh, [["pull", "-q", big]] * 10))

    consistent(fresh)


def _blocked_writing_a_pipe(pid: int) -> bool:
    """The kernel shows where a sleeping process waits: a full pipe's writer waits in
    pipe_write (anon_pipe_write on newer kernels)."""
    return Path(f"/proc/{pid}/wchan").read_text().endswith("pipe_write")


def op_dirs(root: Path) -> list[Path]:
    return [p for p in (root / "tmp").iterdir() if p.is_dir()]


def test_a_running_save_keeps_the_layers_it_reads(loaded: Dockyard, big: str) -> None:
    """A save blocked on a full pipe is alive: a pull's clean-up and rmi leave it be,
    and the layers it reads are removed only when it ends."""
    multi = [c.removeprefix("sha256:") for c in _chains(loaded, "bb-multi")]
    save = subprocess.Popen(
        [str(DOCKYARD), "save", "bb-multi"],
        env=loaded.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: op_dirs(loaded.root), "save to start")
        # it has filled the pipe and waits (a fixed pause could end before it got there)
        wait_for(lambda: _blocked_writing_a_pipe(save.pid), "save to fill its pipe", 60)

        loaded.run("pull", "-q", big)  # cleans up dead operations
        removed = loaded.run("rmi", "bb-multi").stdout
        assert "Deleted: sha256:" in removed
        # bb-multi's upper two layers (bb-single keeps the base): the save reads them
        assert "Pending: 2 layers" in removed, removed
        assert all((loaded.root / "layers" / c).is_dir() for c in multi)
        stdout, stderr = save.communicate(timeout=60)
    finally:
        if save.poll() is None:
            save.kill()
            save.communicate()

    assert save.returncode == 0, stderr
    # the removal finished when the save ended; bb-single keeps the base layer
    assert [(loaded.root / "layers" / c).is_dir() for c in multi] == [True, False, False]
    consistent(loaded)
    loaded.run("load", "-q", input=stdout)  # what it wrote is whole
    assert "bb-multi" in loaded.run("images").stdout
    consistent(loaded)


def test_a_load_from_a_pipe_keeps_its_scratch_while_others_clean_up(
    loaded: Dockyard, big: str
) -> None:
    saved = subprocess.run(
        [str(DOCKYARD), "save", "bb-multi"], env=loaded.env, capture_output=True, check=True
    ).stdout
    loaded.run("rmi", "bb-multi")
    load = subprocess.Popen(
        [str(DOCKYARD), "load"],
        env=loaded.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert load.stdin is not None
        load.stdin.write(saved[: len(saved) // 2])
        load.stdin.flush()
        wait_for(lambda: any(p.glob("archive/*") for p in op_dirs(loaded.root)), "the spool")

        loaded.run("pull", "-q", big)
        loaded.run("image", "prune", "-a", "-f")

        out, err = load.communicate(saved[len(saved) // 2 :], timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
            load.communicate()
    assert load.returncode == 0, err
    assert b"Loaded image: bb-multi:latest" in out
    consistent(loaded)


def _chains(dockyard: Dockyard, name: str) -> list[str]:
    out = dockyard.run("image", "inspect", "-f", "{{json .RootFS.Layers}}", name).stdout
    return chain_ids(json.loads(out))


def test_a_directory_no_lock_vouches_for_is_left_to_system_check(
    loaded: Dockyard, big: str
) -> None:
    orphan = loaded.root / "tmp" / "someone-elses"
    orphan.mkdir()
    (orphan / "file").write_text("in use, maybe")

    loaded.run("pull", "-q", big)
    loaded.run("image", "prune", "-a", "-f")

    assert (orphan / "file").exists()
    found = loaded.run("system", "check", "--no-repair", check=False).stdout
    assert "tmp/someone-elses: no operation holds it" in found
    assert "removed tmp/someone-elses" in loaded.run("system", "check").stdout
    assert not orphan.exists()


def test_prune_during_a_pull_reports_what_it_freed(
    loaded: Dockyard,
    registry: Registry,
    proxy: StallingProxy,
    tmp_path: Path,
    test_images: SampleImages,
) -> None:
    """The pull leases the busybox layer it shares with bb-single: prune -a frees the rest
    at once and says so; the busybox layer stays for the pull."""
    name = f"{registry.host}/race/onbase:1"
    image = random_image(1, 8, base=test_images.single)
    push(loaded, tmp_path, name, image)
    loaded.run("rmi", name)
    proxy.held.add(image.layers[-1].digest)
    sizes_before = _disk_usage(loaded.root)
    pull = loaded.popen("pull", f"{proxy.host}/race/onbase:1")
    try:
        assert proxy.waiting.wait(30)

        pruned = loaded.run("image", "prune", "-a", "-f").stdout

        freed = sizes_before - _disk_usage(loaded.root)
        reported = pruned.split("Total reclaimed space: ")[1].split("\n")[0]
        assert reported != "0B"
        assert _parse_size(reported) == pytest.approx(freed, rel=0.35), (pruned, freed)
        assert "Pending: 1 layers" in pruned, pruned  # busybox: the pull holds it
        base = test_images.single.layers[0].diff_id.removeprefix("sha256:")
        assert (loaded.root / "layers" / base).is_dir()
        proxy.release()
        assert pull.wait(60) == 0
    finally:
        proxy.release()
        if pull.poll() is None:
            pull.kill()
            pull.wait()
    assert loaded.run("images", "-q").stdout.strip() == image.id[7:19]
    consistent(loaded)


def _disk_usage(root: Path) -> int:
    """Bytes of file content under layers/ and blobs/ (what prune reports)."""
    total = 0
    for top in (root / "layers", root / "blobs"):
        for dirpath, _, files in os.walk(top):
            for name in files:
                st = os.lstat(os.path.join(dirpath, name))
                if name != "layer.json" and not os.path.islink(os.path.join(dirpath, name)):
                    total += st.st_size
    return total


def _parse_size(text: str) -> float:
    for unit, factor in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1)):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * factor
    raise AssertionError(text)


def test_parallel_pushes_and_pulls_lose_no_repo_digest(
    loaded: Dockyard, registry: Registry
) -> None:
    """Each push adds its repo digest to the one image record, each pull its own, all
    at once: read-modify-writes of one record."""
    pulled = [f"{registry.host}/lost/p{i}" for i in range(4)]
    for repo in pulled:
        loaded.run("tag", "bb-multi", f"{repo}:1")
        loaded.run("push", "-q", f"{repo}:1")
        loaded.run("rmi", f"{repo}:1")
    loaded.run("rmi", "-f", "bb-multi")  # the record goes; the pulls bring it back
    loaded.run("pull", "-q", f"{pulled[0]}:1")
    pushed = [f"{registry.host}/lost/r{i}" for i in range(8)]
    for repo in pushed:
        loaded.run("tag", f"{pulled[0]}:1", f"{repo}:1")

    no_tracebacks(
        run_parallel(
            loaded,
            [["push", "-q", f"{repo}:1"] for repo in pushed]
            + [["pull", "-q", f"{repo}:1"] for repo in pulled[1:]],
        )
    )

    name = f"{pulled[0]}:1"
    digests = loaded.run("image", "inspect", "-f", "{{json .RepoDigests}}", name).stdout
    assert sorted(d.split("@")[0] for d in json.loads(digests)) == sorted(pulled + pushed)


def test_tag_and_rmi_racing_leave_no_dangling_tag(
    loaded: Dockyard, test_images: SampleImages
) -> None:
    """rmi of an image's last name races tags of that name: one side wins, cleanly."""
    for round_ in range(6):
        loaded.run("tag", "bb-single", "victim:1")
        loaded.run("rmi", "bb-single")  # victim:1 is now its only name
        commands = [["tag", "victim:1", f"copy{i}:1"] for i in range(6)]
        commands.insert(round_, ["rmi", "victim:1"])

        results = run_parallel(loaded, commands)

        for result in results:
            assert "Traceback" not in result.stderr, result
            # the engine says "No such image: victim:1"; a tag that resolved the
            # name before the rmi, the store's "no such image: sha256:..."
            lost = "no such image: " in result.stderr.lower()
            assert result.returncode == 0 or (lost and result.stderr.count("\n") == 1), result
        consistent(loaded)
        names = loaded.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        copies = [n for n in names if n.startswith("copy")]
        assert copies == sorted(copies)
        if copies:
            loaded.run("rmi", *copies)
        loaded.run("load", "-q", "-i", str(test_images.layout))
