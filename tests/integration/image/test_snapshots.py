"""Snapshots for containers: the root's mode and owner, many layers, and the differ."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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
from tests.integration.image.conftest import DOCKYARD, Dockyard

pytestmark = pytest.mark.integration


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def load_as(dockyard: Dockyard, tmp_path: Path, name: str, image: Image, mask: int) -> None:
    """``dockyard load`` of ``image`` run under the umask ``mask``."""
    layout = write_layout(tmp_path / f"layout-{name}", {f"docker.io/library/{name}:1": [image]})
    subprocess.run(
        ["sh", "-c", f'umask {mask:o}; exec "$0" "$@"', str(DOCKYARD), "load", "-i", str(layout)],
        env=dockyard.env,
        check=True,
        capture_output=True,
    )


def store_for(dockyard: Dockyard, driver: str) -> LocalStore:
    store = LocalStore(dockyard.root, driver=driver)
    if driver == OVERLAY and store.snapshots.driver != OVERLAY:
        pytest.skip("overlayfs cannot be mounted here")
    return store


def mode_and_owner(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mode & 0o7777, st.st_uid, st.st_gid


@pytest.mark.parametrize("driver", [OVERLAY, VFS])
def test_the_root_has_the_images_mode_and_owner_whatever_the_umask(
    dockyard: Dockyard, tmp_path: Path, driver: str
) -> None:
    # no entry for the root, nor for etc/: both made by the unpack
    plain = Image([make_layer(tar_entries([file_entry("etc/motd", b"hi\n")]))])
    root = dir_entry(".", 0o750)
    root.uid, root.gid = 5, 6
    chosen = Image(
        [
            make_layer(tar_entries([root, file_entry("a", b"a")])),
            make_layer(tar_entries([file_entry("b", b"b")])),  # inherits the root above
        ]
    )
    load_as(dockyard, tmp_path, "plain", plain, 0o077)
    load_as(dockyard, tmp_path, "chosen", chosen, 0o077)
    store = store_for(dockyard, driver)

    made = []
    try:
        with umask(0o077):
            for name in ("plain", "chosen"):
                record = store.images.resolve(name, f"docker.io/library/{name}:1")
                rootfs = store.snapshots.create(
                    name, record.id, record.layers, store.layer_dirs(record)
                )
                made.append(name)
                if name == "plain":
                    assert mode_and_owner(rootfs) == (0o755, 0, 0)
                    assert mode_and_owner(rootfs / "etc") == (0o755, 0, 0)
                else:
                    assert mode_and_owner(rootfs) == (0o750, 5, 6)
                    assert (rootfs / "b").read_bytes() == b"b"
    finally:
        for name in made:
            store.snapshots.remove(name)


def test_an_overlay_mount_of_seventy_layers(dockyard: Dockyard, tmp_path: Path) -> None:
    """With absolute paths, overlay's one-page option string holds about 40 layers."""
    layers = []
    for i in range(70):
        entries: list = [dir_entry("data"), file_entry(f"data/f{i}", f"{i}\n".encode())]
        if i == 40:
            entries.append(file_entry("data/.wh.f3"))  # a whiteout deep in the stack
        if i == 50:  # an opaque directory hides everything below it
            entries += [dir_entry("cache"), file_entry("cache/.wh..wh..opq")]
            entries.append(file_entry("cache/new", b"new\n"))
        elif i < 50:
            entries += [dir_entry("cache"), file_entry(f"cache/old{i}", b"old\n")]
        layers.append(make_layer(tar_entries(entries)))
    load_as(dockyard, tmp_path, "tall", Image(layers), 0o022)
    store = store_for(dockyard, OVERLAY)
    record = store.images.resolve("tall", "docker.io/library/tall:1")
    assert len(record.layers) == 70

    rootfs = store.snapshots.create("tall", record.id, record.layers, store.layer_dirs(record))
    try:
        assert os.path.ismount(rootfs)
        names = sorted(os.listdir(rootfs / "data"))
        assert names == sorted(f"f{i}" for i in range(70) if i != 3)
        assert (rootfs / "data/f69").read_text() == "69\n"
        assert os.listdir(rootfs / "cache") == ["new"]
        (rootfs / "data/f0").write_text("changed\n")  # copy-up works through the links
        assert (rootfs / "data/f0").read_text() == "changed\n"
    finally:
        store.snapshots.remove("tall")
    assert not os.path.ismount(rootfs)
    links = dockyard.root / "l"
    assert len(os.listdir(links)) == 70

    dockyard.run("rmi", "tall:1")
    assert os.listdir(links) == []  # each layer's link goes with it
