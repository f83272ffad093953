"""Crashes and power cuts: what a killed pull or an unsynced record leaves, and the repair."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.image.conftest import DOCKYARD, Dockyard, Registry, SampleImages
from tests.integration.image.racing import StallingProxy, consistent, no_garbage, wait_for
from tests.integration.image.test_concurrency import push, random_image
from tests.support import leaks

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(registry: Registry) -> Iterator[StallingProxy]:
    server = StallingProxy(registry.host)
    yield server
    server.stop()


def image_id(dockyard: Dockyard, name: str) -> str:
    return dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout.strip()


def chains(dockyard: Dockyard, name: str) -> list[str]:
    from dockyard.storage.layers import chain_ids

    out = dockyard.run("image", "inspect", "-f", "{{json .RootFS.Layers}}", name).stdout
    return [c.removeprefix("sha256:") for c in chain_ids(json.loads(out))]


def test_a_pull_killed_between_its_layers_and_its_record(
    dockyard: Dockyard, registry: Registry, proxy: StallingProxy, tmp_path: Path
) -> None:
    name = f"{registry.host}/crash/three:1"
    image = random_image(3, 6)
    push(dockyard, tmp_path, name, image)
    dockyard.run("rmi", name)
    no_garbage(dockyard.root)
    proxy.held.add(image.layers[2].digest)
    pull = dockyard.popen("pull", f"{proxy.host}/crash/three:1")
    try:
        wait_for(
            lambda: (
                len(list((dockyard.root / "layers").iterdir())) == 2
                and len(list((dockyard.root / "blobs/sha256").iterdir())) == 2
            ),
            "two layers and their blobs",
        )
    finally:
        pull.send_signal(signal.SIGKILL)
        pull.wait()
    wait_for(lambda: not leaks.processes_mentioning(proxy.host), "the pull's workers to die")

    found = dockyard.run("system", "check", "--no-repair", check=False)
    repaired = dockyard.run("system", "check")

    assert found.returncode == 1
    stored = [layer.diff_id for layer in image.layers[:2]]  # the first chain IDs: no parent
    for chain in [stored[0]]:
        assert f"problem: layer {chain} is used by no image or snapshot" in found.stdout
    assert found.stdout.count("is used by no image or snapshot") == 4, found.stdout  # +2 blobs
    assert repaired.stdout.count("repaired: removed the unused") == 4, repaired.stdout
    consistent(dockyard)


# ---------------------------------------------------------------- power cuts


def test_an_empty_names_json_is_reported_and_repaired(loaded: Dockyard) -> None:
    (loaded.root / "names.json").write_bytes(b"")

    listed = loaded.run("images", "--format", "{{.Repository}}:{{.Tag}}")
    found = loaded.run("system", "check", "--no-repair", check=False)
    repaired = loaded.run("system", "check")

    assert listed.stdout.split() == ["<none>:<none>"] * 3
    assert "damaged" in listed.stderr and "system check" in listed.stderr
    assert found.returncode == 1 and "names.json is damaged (empty)" in found.stdout, found
    assert "emptied names.json: its tags are lost" in repaired.stdout, repaired
    consistent(loaded)
    loaded.run("tag", image_id(loaded, loaded.run("images", "-q").stdout.split()[0]), "back:1")
    assert "back" in loaded.run("images").stdout


def test_an_empty_image_record_is_rebuilt_from_its_manifest(loaded: Dockyard) -> None:
    multi = image_id(loaded, "bb-multi")
    path = loaded.root / "images" / f"{multi[7:]}.json"
    before = json.loads(path.read_text())
    path.write_bytes(b"")

    listed = loaded.run("images", "--format", "{{.Repository}}")
    inspect = loaded.run("image", "inspect", "bb-multi", check=False)
    found = loaded.run("system", "check", "--no-repair", check=False)
    repaired = loaded.run("system", "check")

    assert sorted(listed.stdout.split()) == ["bb-platforms", "bb-single"]
    assert "damaged" in listed.stderr
    assert inspect.returncode == 1 and "Traceback" not in inspect.stderr
    assert len(inspect.stderr.strip().splitlines()) == 1, inspect.stderr
    assert f"image {multi[7:19]}: its record is damaged (empty)" in found.stdout, found
    assert f"rebuilt the record of image {multi[7:19]}" in repaired.stdout, repaired
    after = json.loads(path.read_text())
    for key in ("id", "manifest_digest", "manifest_media_type", "layers", "created", "size"):
        assert after[key] == before[key], key
    consistent(loaded)
    assert "bb-multi" in loaded.run("images").stdout


def test_an_empty_layer_json_is_not_consistent_and_the_next_pull_replaces_it(
    loaded: Dockyard, registry: Registry
) -> None:
    name = f"{registry.host}/crash/multi:1"
    loaded.run("tag", "bb-multi", name)
    loaded.run("push", name)
    top = chains(loaded, "bb-multi")[-1]
    (loaded.root / "layers" / top / "layer.json").write_bytes(b"")

    found = loaded.run("system", "check", "--no-repair", check=False)
    pulled = loaded.run("pull", name, check=False)

    assert found.returncode == 1 and f"layer sha256:{top} of image" in found.stdout, found
    assert "is damaged" in found.stdout
    assert pulled.returncode == 0, pulled.stderr
    assert (loaded.root / "layers" / top / "diff/etc/motd").read_text() == "layer three\n"
    consistent(loaded)


def test_system_check_unpacks_a_damaged_layer_again(loaded: Dockyard) -> None:
    top = chains(loaded, "bb-multi")[-1]
    layer = loaded.root / "layers" / top
    (layer / "layer.json").write_text("{")
    (layer / "diff/etc/motd").write_text("half written")

    repaired = loaded.run("system", "check")

    assert f"unpacked layer sha256:{top} again from its blob" in repaired.stdout, repaired
    assert (layer / "diff/etc/motd").read_text() == "layer three\n"
    consistent(loaded)


# ---------------------------------------------------------------- durability


def test_a_pull_puts_what_it_publishes_on_disk_before_the_rename(
    loaded: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    """syncfs before a layer's rename, fsync before a blob's or a record's, and an fsync
    of the directory after each: seen by strace."""
    name = f"{registry.host}/durable/multi:1"
    loaded.run("tag", "bb-multi", name)
    loaded.run("push", name)
    fresh = Dockyard(tmp_path / "fresh", tmp_path / "fresh-config")
    trace = tmp_path / "trace"
    subprocess.run(
        [
            "strace", "-ff", "-y", "-qq", "-o", str(trace),
            "-e", "trace=fsync,fdatasync,syncfs,rename,renameat,renameat2",
            str(DOCKYARD), "pull", "-q", name,
        ],
        env=fresh.env, check=True, capture_output=True,
    )  # fmt: skip
    root = str(fresh.root)
    calls: dict[str, list[tuple[str, str]]] = {}  # process -> [(call, path or rename)]
    for per_process in tmp_path.glob("trace.*"):
        for line in per_process.read_text().splitlines():
            m = re.match(r"(\w+)\((.*)\)\s+= 0", line)
            if not m:
                continue
            call, args = m.groups()
            history = calls.setdefault(per_process.name, [])
            if call.startswith("rename"):
                paths = re.findall(r'"([^"]*)"', args)
                history.append((call, f"{paths[0]} -> {paths[-1]}"))
            elif f"<{root}" in args:
                history.append((call, args.split("<", 1)[1].rstrip(">")))

    published = {"layers": 0, "blobs": 0, "images": 0, "names": 0}
    for history in calls.values():
        for i, (call, arg) in enumerate(history):
            if not call.startswith("rename") or f"{root}/tmp" in arg.split(" -> ")[1]:
                continue
            source, target = arg.split(" -> ")
            kind = target.removeprefix(root + "/").split("/")[0].removesuffix(".json")
            before = history[:i]
            after = history[i + 1 :]
            if kind == "layers":
                assert ("syncfs", source) in before, (target, before)
            else:
                assert ("fsync", source) in before, (target, before)
            assert ("fsync", str(Path(target).parent)) in after, (target, after)
            published[kind] += 1
    assert published == {"layers": 3, "blobs": 5, "images": 1, "names": 1}


def test_tag_on_a_full_filesystem_leaves_no_temporary_file(
    tmp_path: Path, dockyard: Dockyard, test_images: SampleImages
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(small)], check=True)
    try:
        store = Dockyard(small / "store", tmp_path / "config")
        store.run("load", "-q", "-i", str(test_images.layout))
        with open(small / "filler", "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 16))
                    f.flush()
            except OSError:
                pass

        tagged = store.run("tag", "bb-single", "more:1", check=False)

        assert tagged.returncode == 1
        assert tagged.stderr.strip().count("\n") == 0, tagged.stderr
        assert "no space left on device" in tagged.stderr
        assert [p.name for p in (small / "store").iterdir() if p.name.endswith(".tmp")] == []
        (small / "filler").unlink()
        assert "more" not in store.run("images").stdout
        consistent(store)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)


def test_a_failed_pull_leaves_no_layer_behind(
    dockyard: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    """Two layers stored, the third corrupt in the registry: the pull fails, and what it
    stored, now used by nothing, is collected when it ends."""
    name = f"{registry.host}/crash/corrupt:1"
    image = random_image(3, 6)
    push(dockyard, tmp_path, name, image)
    dockyard.run("rmi", name)
    blob = registry.blob_file(image.layers[2].digest)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))

    failed = dockyard.run("pull", name, check=False)

    assert failed.returncode == 1 and "Traceback" not in failed.stderr, failed
    consistent(dockyard)


# The store's overlay probe (snapshots.overlay_supported), killed between its mount and
# its unmount: umount2 replaced by a SIGKILL of the process itself.
_KILLED_MID_PROBE = """
import os, signal, sys
from dockyard.linux import libc
from dockyard.storage.local import LocalStore
from dockyard.storage.snapshots import overlay_supported
store = LocalStore(sys.argv[1])
libc.umount2 = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
overlay_supported(store.store)
sys.exit(3)  # overlay cannot be mounted here: nothing was left mounted
"""


def test_a_mount_left_by_a_killed_operation_does_not_stop_the_next(
    loaded: Dockyard, test_images: SampleImages
) -> None:
    """A command killed in the overlay probe left a mount in its operation's directory:
    every later command failed cleaning up after it (rmdir: EBUSY), rm -f of a container
    included, until someone unmounted it by hand."""
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_PROBE, str(loaded.root)], capture_output=True
    )
    if killed.returncode == 3:
        pytest.skip("overlayfs cannot be mounted here")
    assert killed.returncode == -signal.SIGKILL, killed
    assert leaks.mounts_under(loaded.root / "tmp")  # the probe's, left behind

    loaded.run("rmi", "bb-multi")  # an operation: it cleans up the dead one first
    loaded.run("load", "-q", "-i", str(test_images.layout))

    assert leaks.mounts_under(loaded.root / "tmp") == []
    consistent(loaded)
