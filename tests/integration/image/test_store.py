"""The store under stress: pulls killed mid-way, system check, snapshots, rmi and prune."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from dockyard.storage.gc import collect, count_refs
from dockyard.storage.local import LocalStore
from dockyard.storage.snapshots import OVERLAY, VFS
from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_entries,
    write_layout,
)
from tests.integration.image.conftest import Dockyard, Registry
from tests.support import leaks

pytestmark = pytest.mark.integration


def no_garbage(root: Path) -> None:
    store = LocalStore(root)
    assert os.listdir(root / "tmp") == []
    refs = count_refs(store.store)
    assert {c for c in store.layers.all() if refs.layers[c] == 0} == set()
    assert {b for b in store.store.blob_digests() if refs.blobs[b] == 0} == set()


@pytest.mark.parametrize("layers", [1, 3])  # 3: the layers unpack in forked workers
def test_a_pull_killed_at_random_points_then_repeated(
    dockyard: Dockyard, registry: Registry, tmp_path: Path, layers: int
) -> None:
    name = f"{registry.host}/crash/big{layers}:1"
    image = Image(
        [
            make_layer(
                tar_entries(
                    [dir_entry(f"data{n}")]
                    + [file_entry(f"data{n}/{i}", os.urandom(1 << 20)) for i in range(24 // layers)]
                )
            )
            for n in range(layers)
        ]
    )
    dockyard.run("load", "-i", str(write_layout(tmp_path / "layout", {name: [image]})))
    expected = dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout
    dockyard.run("push", name)
    dockyard.run("rmi", name)
    no_garbage(dockyard.root)
    rng = random.Random(4)
    for _ in range(6):
        proc = dockyard.popen("pull", name)
        time.sleep(rng.uniform(0.1, 0.9))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5  # its layer workers die with it
        while leaks.processes_mentioning(name) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert leaks.processes_mentioning(name) == {}
        listed = dockyard.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
        if name in listed:  # the pull finished before the kill: start again
            dockyard.run("rmi", name)

    dockyard.run("pull", name)

    assert dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout == expected
    check = dockyard.run("system", "check", "--no-repair").stdout
    assert "the store is consistent" in check
    no_garbage(dockyard.root)


def test_system_check_finds_and_repairs_damage(loaded: Dockyard) -> None:
    record_id = loaded.run("image", "inspect", "-f", "{{.Id}}", "bb-multi").stdout.strip()
    record = json.loads((loaded.root / "images" / f"{record_id[7:]}.json").read_text())
    manifest = json.loads(
        (loaded.root / "blobs/sha256" / record["manifest_digest"][7:]).read_text()
    )
    top_blob = loaded.root / "blobs/sha256" / manifest["layers"][-1]["digest"][7:]
    top_blob.write_bytes(b"corrupted")
    stale = loaded.root / "tmp" / "op-dead"
    stale.mkdir()
    (loaded.root / "tmp" / "op-dead.lock").write_text("")

    found = loaded.run("system", "check", "--no-repair", check=False)
    repaired = loaded.run("system", "check").stdout
    after = loaded.run("system", "check").stdout

    assert found.returncode == 1 and "does not match its digest" in found.stdout, found
    assert "found leftovers of an interrupted operation: op-dead" in found.stdout
    assert "removed the broken image" in repaired, repaired
    assert "op-dead" in repaired
    assert "bb-multi" not in loaded.run("images").stdout
    assert "bb-single" in loaded.run("images").stdout
    assert "the store is consistent" in after
    no_garbage(loaded.root)


@pytest.mark.parametrize("driver", [OVERLAY, VFS])
def test_snapshots_share_layers_and_apply_whiteouts(loaded: Dockyard, driver: str) -> None:
    store = LocalStore(loaded.root, driver=driver)
    record = store.images.resolve("bb-multi", "docker.io/library/bb-multi:latest")
    if driver == OVERLAY and store.snapshots.driver != OVERLAY:
        pytest.skip("overlayfs cannot be mounted here")
    rootfs = Path(store.snapshots.create("c1", record.id, record.layers, store.layer_dirs(record)))
    other = Path(store.snapshots.create("c2", record.id, record.layers, store.layer_dirs(record)))
    try:
        assert (rootfs / "etc/motd").read_text() == "layer three\n"
        assert not (rootfs / "etc/secret").exists()
        assert sorted(os.listdir(rootfs / "var/cache")) == ["new"]
        assert (rootfs / "bin/busybox").exists()
        (rootfs / "etc/motd").write_text("changed in c1\n")
        assert (other / "etc/motd").read_text() == "layer three\n"
        busy = loaded.run("rmi", "bb-multi", check=False)
        assert busy.returncode == 1 and "in use by c1, c2" in busy.stderr
        assert "bb-multi" in loaded.run("images").stdout
        forced = loaded.run("rmi", "-f", "bb-multi")
        assert "Deleted" in forced.stdout
        assert all(store.layers.has(c) for c in record.layers)  # the snapshots hold them
    finally:
        store.snapshots.remove("c1")
        store.snapshots.remove("c2")
    collect(store.store)
    assert not any(store.layers.has(c) for c in record.layers[1:])


def test_images_filters_formats_and_prune(loaded: Dockyard) -> None:
    table = loaded.run("images").stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert len(loaded.run("images", "-q").stdout.split()) == 3
    assert (
        loaded.run(
            "images", "--filter", "reference=bb-s*", "--format", "{{.Repository}}:{{.Tag}}"
        ).stdout
        == "bb-single:latest\n"
    )
    assert (
        loaded.run("images", "--filter", "label=layers=three", "--format", "{{.Repository}}").stdout
        == "bb-multi\n"
    )
    formatted = loaded.run(
        "images", "--format", "table {{.Repository}}\t{{.Tag}}", "bb-multi"
    ).stdout
    assert formatted.split() == ["REPOSITORY", "TAG", "bb-multi", "latest"]
    loaded.run("tag", "bb-single", "extra:1")
    loaded.run("rmi", "bb-single")
    assert "extra" in loaded.run("images").stdout
    loaded.run("rmi", "extra:1")
    history = loaded.run("history", "bb-multi").stdout
    assert "layer 2" in history
    loaded.run("image", "prune", "-a", "-f")
    assert loaded.run("images", "-q").stdout == ""
    no_garbage(loaded.root)
    assert os.listdir(loaded.root / "layers") == []
