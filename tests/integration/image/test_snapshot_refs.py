"""Snapshots as references: made and removed under the store's lock, and their layers kept
from rmi and garbage collection, with other processes racing them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dockyard.storage.local import LocalStore
from dockyard.storage.snapshots import OVERLAY, VFS
from tests.integration.image.builder import write_layout
from tests.integration.image.conftest import DOCKYARD, REPO, Dockyard, Result, SampleImages
from tests.integration.image.racing import consistent, wait_for
from tests.integration.image.test_concurrency import random_image
from tests.integration.image.test_crash import chains
from tests.support.procs import reaped, stopped

pytestmark = pytest.mark.integration

MULTI = "docker.io/library/bb-multi:latest"

# A process that makes or removes a snapshot, as the engine does; errors as one line.
# With "pause", it stops itself (SIGSTOP) before the copy's first file: a copy caught
# mid-way however fast or slow the machine is (polling for the copy's files from outside
# missed a copy of a few milliseconds, and a stop then came too late).
_TOOL = """
import os, shutil, signal, sys
from dockyard.errors import DockyardError
from dockyard.storage.local import LocalStore
root, verb, snapshot, name, driver, *pause = sys.argv[1:]
if pause:
    copyfile = shutil.copyfile
    def stop_then_copy(*args, **kwargs):
        shutil.copyfile = copyfile
        os.kill(os.getpid(), signal.SIGSTOP)
        return copyfile(*args, **kwargs)
    shutil.copyfile = stop_then_copy
store = LocalStore(root, driver=driver)
try:
    if verb == "create":
        record = store.images.resolve(name, name)
        store.snapshots.create(snapshot, record.id, record.layers, store.layer_dirs(record))
    else:
        store.snapshots.remove(snapshot)
except DockyardError as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(1)
"""


def snapshot_proc(
    dockyard: Dockyard,
    verb: str,
    snapshot: str,
    name: str = MULTI,
    driver: str = VFS,
    pause: bool = False,
) -> subprocess.Popen[bytes]:
    tool = [sys.executable, "-c", _TOOL, str(dockyard.root), verb, snapshot, name, driver]
    return subprocess.Popen(
        tool + ["pause"] * pause,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> Result:
    out, err = proc.communicate(timeout=120)
    return Result(proc.returncode, out.decode(), err.decode())


def test_two_processes_making_one_snapshot(loaded: Dockyard) -> None:
    for round_ in range(4):
        procs = [snapshot_proc(loaded, "create", f"c{round_}") for _ in range(2)]
        with reaped(*procs):
            results = sorted((finish(p) for p in procs), key=lambda r: r.returncode)

        assert [r.returncode for r in results] == [0, 1], results
        assert results[1].stderr == f"Conflict: snapshot c{round_} exists already\n", results
    assert sorted(os.listdir(loaded.root / "snapshots")) == ["c0", "c1", "c2", "c3"]


def test_rmi_racing_snapshot_creation(loaded: Dockyard, test_images: SampleImages) -> None:
    """Either the snapshot is made and rmi refuses, or rmi deletes the image and the
    snapshot is not made: never a snapshot of a deleted image."""
    layout = test_images.layout
    outcomes = set()
    for round_ in range(8):
        create = snapshot_proc(loaded, "create", f"r{round_}")
        removal = subprocess.Popen(
            [str(DOCKYARD), "rmi", "bb-multi"],
            env=loaded.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        with reaped(create, removal):
            made, removed = finish(create), finish(removal)

        snapshot = (loaded.root / "snapshots" / f"r{round_}").exists()
        image = "bb-multi" in loaded.run("images").stdout
        assert "Traceback" not in made.stderr + removed.stderr
        assert (made.returncode, snapshot) in ((0, True), (1, False)), made
        assert snapshot == image, (made, removed)
        outcomes.add(snapshot)
        if snapshot:
            assert "in use by r" in removed.stderr, removed
            assert finish(snapshot_proc(loaded, "remove", f"r{round_}")).returncode == 0
        else:
            assert "no such image" in made.stderr, made
            loaded.run("load", "-q", "-i", str(layout))
        consistent(loaded)


@pytest.mark.parametrize("driver", [OVERLAY, VFS])
def test_rmi_force_and_prune_keep_a_snapshots_layers(loaded: Dockyard, driver: str) -> None:
    store = LocalStore(loaded.root, driver=driver)
    if driver == OVERLAY and store.snapshots.driver != OVERLAY:
        pytest.skip("overlayfs cannot be mounted here")
    record = store.images.resolve("bb-multi", MULTI)
    rootfs = Path(store.snapshots.create("c1", record.id, record.layers, store.layer_dirs(record)))
    try:
        loaded.run("rmi", "-f", "bb-multi")
        pruned = loaded.run("image", "prune", "-a", "-f").stdout
        loaded.run("system", "check")

        assert all(store.layers.has(c) for c in record.layers)
        assert (rootfs / "etc/motd").read_text() == "layer three\n"
        assert "Pending" not in pruned
        check = loaded.run("system", "check", "--no-repair")
        assert check.stdout == "the store is consistent\n"
    finally:
        store.snapshots.remove("c1")

    # the snapshot was the last user: its layers went with it
    assert not any(store.layers.has(c) for c in record.layers)
    consistent(loaded)


def test_a_snapshot_being_made_holds_its_layers(dockyard: Dockyard, tmp_path: Path) -> None:
    """prune -a while a snapshot's files are being copied: the copy never loses its
    layers; the image is gone, so the snapshot is refused cleanly at the end."""
    name = "docker.io/library/big:1"
    dockyard.run(
        "load", "-q", "-i", str(write_layout(tmp_path / "l", {name: [random_image(2, 16)]}))
    )
    layers = chains(dockyard, name)
    create = snapshot_proc(dockyard, "create", "held", name, pause=True)
    with reaped(create):
        wait_for(
            lambda: stopped(create.pid) or create.poll() is not None,
            "the copy to start",
            timeout=120,
        )
        assert create.poll() is None, finish(create)
        assert any((dockyard.root / "tmp").glob("op-*/snapshot.*/rootfs/data0"))
        # mid-copy, its operation alive
        try:
            pruned = dockyard.run("image", "prune", "-a", "-f").stdout

            assert "Pending: 2 layers" in pruned, pruned
            assert all((dockyard.root / "layers" / c / "diff").is_dir() for c in layers)
        finally:
            os.kill(create.pid, signal.SIGCONT)
        made = finish(create)

    assert made.returncode == 1 and made.stderr.startswith("NotFound: no such image"), made
    assert os.listdir(dockyard.root / "snapshots") == []
    assert os.listdir(dockyard.root / "layers") == []  # collected when the copy ended
    consistent(dockyard)


def test_a_damaged_snapshot_record_stops_collection_and_is_named(loaded: Dockyard) -> None:
    store = LocalStore(loaded.root, driver=VFS)
    record = store.images.resolve("bb-multi", MULTI)
    store.snapshots.create("c1", record.id, record.layers, store.layer_dirs(record))
    (loaded.root / "snapshots/c1/snapshot.json").write_bytes(b"")

    removed = loaded.run("rmi", "bb-multi").stdout
    checked = loaded.run("system", "check", check=False)

    assert "Pending: nothing was collected: damaged records" in removed, removed
    assert all(store.layers.has(c) for c in record.layers)
    assert checked.returncode == 1
    assert "not repaired: snapshot" in checked.stdout and "record is damaged" in checked.stdout
    store.snapshots.remove("c1")  # the way out: the engine removes the container
    consistent(loaded)
