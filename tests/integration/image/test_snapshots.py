"""Snapshots for containers: the root's mode and owner, many layers, and the differ."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import struct
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dockyard.storage.differ import changes, is_whiteout, write_layer, write_tree
from dockyard.storage.local import LocalStore
from dockyard.storage.snapshots import OVERLAY, VFS
from dockyard.storage.treewalk import walk
from dockyard.storage.unpack import apply_layer
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
                rootfs = Path(
                    store.snapshots.create(name, record.id, record.layers, store.layer_dirs(record))
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

    rootfs = Path(
        store.snapshots.create("tall", record.id, record.layers, store.layer_dirs(record))
    )
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


# ---------------------------------------------------------------- the differ

NET_RAW_EP = struct.pack("<IIIII", 0x02000000 | 1, 1 << 13, 0, 0, 0)


def describe(root: Path, mtimes: bool = True) -> dict[str, tuple[object, ...]]:
    """Everything the differ promises to keep, per path, read without following links."""
    found: dict[str, tuple[object, ...]] = {}
    inodes: dict[int, list[str]] = {}
    for entry in walk(root):
        st = entry.st
        if is_whiteout(st):
            found[entry.path] = ("whiteout",)
            continue
        kind = stat.S_IFMT(st.st_mode)
        content: object = None
        if stat.S_ISREG(st.st_mode):
            content = hashlib.sha256(os.read(entry.fd, st.st_size + 1)).hexdigest()
            if st.st_nlink > 1:
                inodes.setdefault(st.st_ino, []).append(entry.path)
        elif stat.S_ISLNK(st.st_mode):
            content = entry.readlink()
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            content = st.st_rdev
        xattrs = {
            k: v
            for k, v in entry.xattrs().items()
            if not k.startswith("trusted.overlay.") or k == "trusted.overlay.opaque"
        }
        keep_time = mtimes and not stat.S_ISDIR(st.st_mode)
        found[entry.path] = (
            kind,
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            content,
            sorted(xattrs.items()),
            st.st_mtime_ns // 10**9 if keep_time else None,
        )
    for paths in inodes.values():  # hardlinked groups, by their names
        if len(paths) < 2:
            continue  # one name left of a pair whose other name is hidden by a whiteout
        for path in paths:
            found[path] += (tuple(sorted(paths)),)
    return found


@pytest.fixture
def container(loaded: Dockyard) -> Iterator[tuple[LocalStore, Path, list[Path]]]:
    """An overlay snapshot of bb-multi, changed in every way a container can."""
    store = store_for(loaded, OVERLAY)
    record = store.images.resolve("bb-multi", "docker.io/library/bb-multi:latest")
    layers = store.layer_dirs(record)
    root = Path(store.snapshots.create("c1", record.id, record.layers, layers))
    try:
        (root / "etc/motd").write_text("changed\n")
        app = root / "srv/app"
        app.mkdir(parents=True)
        (app / "data").write_bytes(b"data\n" * 1000)
        os.chown(app / "data", 1234, 5678)
        os.chmod(app / "data", 0o4750)
        os.setxattr(app / "data", "user.note", b"hello")
        os.setxattr(app / "data", "security.capability", NET_RAW_EP)
        os.link(app / "data", app / "data2")
        (app / "link").symlink_to("/etc/passwd")
        (root / "srv/escape").symlink_to("/")
        os.mknod(app / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mkfifo(app / "fifo")
        (root / "bin/sh").unlink()
        shutil.rmtree(root / "var/cache")  # a lower dir, replaced: opaque in the upper
        (root / "var/cache").mkdir()
        (root / "var/cache/fresh").write_text("fresh\n")
        os.chmod(root / "opt", 0o700)
        (root / "opt/data/two").unlink()  # one name of a hardlinked pair below
        yield store, root, layers
    finally:
        store.snapshots.remove("c1")


def test_changes_are_listed_as_docker_diff_lists_them(
    container: tuple[LocalStore, Path, list[Path]],
) -> None:
    store, _, layers = container
    listed = [str(c) for c in changes(store.snapshots.upper_dir("c1"), layers)]
    assert listed == [
        "C /bin",
        "D /bin/sh",
        "C /etc",
        "C /etc/motd",
        "C /opt",
        "C /opt/data",
        "D /opt/data/two",
        "A /srv",
        "A /srv/app",
        "A /srv/app/data",
        "A /srv/app/data2",
        "A /srv/app/fifo",
        "A /srv/app/link",
        "A /srv/app/null",
        "A /srv/escape",
        "C /var",
        "C /var/cache",
        "A /var/cache/fresh",
        "D /var/cache/new",
    ]


def test_the_layer_tar_round_trips_through_our_unpack(
    container: tuple[LocalStore, Path, list[Path]], tmp_path: Path
) -> None:
    store, root, layers = container
    upper = store.snapshots.upper_dir("c1")
    out = io.BytesIO()
    write_layer(upper, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = tar.getnames()
    assert "bin/.wh.sh" in names and "var/cache/.wh..wh..opq" in names
    assert not [n for n in names if n.startswith("srv/escape/")]  # the link, not "/"

    layer = tmp_path / "layer"
    layer.mkdir()
    apply_layer(io.BytesIO(out.getvalue()), str(layer))

    assert describe(layer) == describe(upper)
    assert os.getxattr(layer / "srv/app/data", "security.capability") == NET_RAW_EP
    # and the image's layers with it on top show what the container showed
    merged = tmp_path / "merged"
    merged.mkdir()
    lowers = ":".join(str(p) for p in [layer, *reversed(layers)])
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lowers}", str(merged)], check=True
    )
    try:
        assert describe(merged, mtimes=False) == describe(root, mtimes=False)
    finally:
        subprocess.run(["umount", str(merged)], check=True)


def test_write_tree_archives_a_mounted_root_without_following_links(
    container: tuple[LocalStore, Path, list[Path]], tmp_path: Path
) -> None:
    _, root, _ = container
    out = io.BytesIO()
    write_tree(root, out)
    copy = tmp_path / "copy"
    copy.mkdir()
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert not [n for n in tar.getnames() if n.startswith("srv/escape/")]
    apply_layer(io.BytesIO(out.getvalue()), str(copy))
    assert describe(copy, mtimes=False) == describe(root, mtimes=False)
