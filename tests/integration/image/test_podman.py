"""podman reads what we write and we read what podman writes.

Both ways through the local registry (OCI and Docker manifests, gzip and
zstd layers, an index of two platforms) and through archives (docker-archive,
oci-archive, OCI dirs, a multi-image docker-archive).

podman runs with a throwaway store of its own (`Podman`): the vfs driver,
file locks instead of the host-wide shared-memory ones, a file events log,
cgroupfs, and its config, temp files and network config under the test's
directory. Teardown removes all of it, also after a failure, and fails the
module if a podman process or a mount outlived it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.image import copy
from dockyard.image.http import HttpClient
from dockyard.image.layout import Bundle, blob_name, read_index
from dockyard.image.registry import Registry as RegistryClient
from tests.integration.image.builder import tar_directory
from tests.integration.image.conftest import Dockyard, Registry, SampleImages
from tests.support.podman import PODMAN, Podman
from tests.support.rootfs import build_rootfs

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(PODMAN is None, reason="needs podman (apt-get install podman)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (podman's store as root)"),
]

#: podman (as root) keeps a cache of where blobs were seen here, whatever --root says
BLOB_INFO_CACHE = Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb")
IMPORTED = "localhost/podman/imported:1"
IMPORTED_TOO = "localhost/podman/imported:2"


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    created = [p for p in (BLOB_INFO_CACHE, *BLOB_INFO_CACHE.parents) if not p.exists()]
    podman = Podman(tmp_path_factory.mktemp("podman"))
    try:
        yield podman
    finally:
        left = podman.clean_up()
        for path in created:  # deepest first: the cache file, then the dirs podman made
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass
        if left:
            pytest.fail("podman left behind:\n" + "\n".join(left), pytrace=False)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rootfs(tmp_path_factory.mktemp("podman-rootfs") / "rootfs")


@pytest.fixture(scope="module")
def podman_images(
    podman: Podman, rootfs: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """Two images podman made by importing a busybox rootfs tarball (one layer, shared)."""
    tarball = tmp_path_factory.mktemp("podman-import") / "rootfs.tar"
    tarball.write_bytes(tar_directory(rootfs))
    podman.run(
        "import",
        "-q",
        "--change",
        'CMD ["/bin/sh", "-c", "echo hi"]',
        "--change",
        "ENV=A=b",
        "--change",
        "LABEL=made=podman",
        str(tarball),
        IMPORTED,
    )
    podman.run("import", "-q", "--change", "LABEL=made=podman-too", str(tarball), IMPORTED_TOO)
    return [IMPORTED, IMPORTED_TOO]


def inspect(dockyard: Dockyard, name: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(dockyard.run("image", "inspect", name).stdout)[0]
    return info


def top_dir(dockyard: Dockyard, name: str) -> Path:
    data = inspect(dockyard, name)["GraphDriver"]["Data"]
    return Path(data["UpperDir"])


def busybox_sha256() -> str:
    return hashlib.sha256(Path("/bin/busybox").read_bytes()).hexdigest()


def assert_same_image(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours["Id"] == "sha256:" + theirs["Id"]
    assert ours["RootFS"]["Layers"] == theirs["RootFS"]["Layers"]
    assert ours["Config"].get("Cmd") == theirs["Config"].get("Cmd")
    assert ours["Config"].get("Env") == theirs["Config"].get("Env")
    assert ours["Config"].get("Labels") == theirs["Config"].get("Labels")
    assert ours["Architecture"] == theirs["Architecture"]


# ---------------------------------------------------------------- podman reads ours


def test_podman_pulls_what_we_push(
    loaded: Dockyard, registry: Registry, podman: Podman, test_images: SampleImages
) -> None:
    name = f"{registry.host}/podman/multi:1"
    loaded.run("tag", "bb-multi", name)
    pushed = loaded.run("push", name).stdout
    (digest,) = re.findall(r"digest: (sha256:[0-9a-f]{64})", pushed)

    podman.run("pull", "-q", "--tls-verify=false", name)

    info = podman.inspect(name)
    assert_same_image(inspect(loaded, name), info)
    assert "sha256:" + info["Id"] == test_images.multi.id
    assert info["Digest"] == digest
    assert info["Labels"] == {"layers": "three"}
    # podman applied our three layers: the whiteout, the opaque dir, the last write
    assert podman.read(name, "etc/motd") == b"layer three\n"
    assert podman.read(name, "etc/secret") is None
    assert podman.read(name, "var/cache/old") is None
    assert podman.read(name, "var/cache/new") == b"new\n"
    assert podman.read(name, "opt/data/two") == b"shared content\n"


def test_podman_pulls_each_platform_of_our_index(
    registry: Registry, podman: Podman, test_images: SampleImages
) -> None:
    bundle = Bundle(test_images.layout)
    entry = next(
        e
        for e in read_index(bundle).manifests
        if e.annotations["io.containerd.image.name"] == SampleImages.PLATFORMS
    )
    with HttpClient(None) as client:
        copy.push_tree(
            lambda d: bundle.open(blob_name(d)),
            bundle.read(blob_name(entry.digest)),
            entry.media_type,
            RegistryClient(client, registry.host),
            "podman/arch",
            "1",
        )
    bundle.close()
    name = f"{registry.host}/podman/arch:1"

    podman.run("pull", "-q", "--tls-verify=false", "--arch", "arm64", name)
    arm = podman.inspect(name)
    podman.run("pull", "-q", "--tls-verify=false", "--arch", "amd64", name)
    amd = podman.inspect(name)

    assert (arm["Architecture"], "sha256:" + arm["Id"]) == ("arm64", test_images.arm64.id)
    assert (amd["Architecture"], "sha256:" + amd["Id"]) == ("amd64", test_images.amd64.id)


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_podman_loads_what_we_save(
    loaded: Dockyard, podman: Podman, test_images: SampleImages, tmp_path: Path, fmt: str
) -> None:
    archive = tmp_path / "saved.tar"
    loaded.run("save", "--format", fmt, "-o", str(archive), "bb-multi")

    podman.run("load", "-q", "-i", str(archive))

    image_id = test_images.multi.id.removeprefix("sha256:")
    info = podman.inspect(image_id)
    assert_same_image(inspect(loaded, "bb-multi"), info)
    assert podman.read(image_id, "etc/motd") == b"layer three\n"
    assert podman.read(image_id, "etc/secret") is None
    podman.run("rmi", "-f", image_id)


# ---------------------------------------------------------------- we read podman's


@pytest.mark.parametrize(
    ("fmt", "compression"), [("oci", "gzip"), ("v2s2", "gzip"), ("oci", "zstd")]
)
def test_we_pull_what_podman_pushes(
    dockyard: Dockyard,
    registry: Registry,
    podman: Podman,
    rootfs: Path,
    tmp_path: Path,
    fmt: str,
    compression: str,
) -> None:
    # A layer of its own: podman would reuse a blob the registry has in another compression.
    variant = f"{fmt}-{compression}"
    mine = tmp_path / "rootfs"
    shutil.copytree(rootfs, mine, symlinks=True)
    (mine / "variant").write_text(variant)
    tarball = tmp_path / "rootfs.tar"
    tarball.write_bytes(tar_directory(mine))
    local = f"localhost/podman/pushed:{variant}"
    podman.run("import", "-q", "--change", "LABEL=made=podman", str(tarball), local)
    name = f"{registry.host}/podman/pushed:{variant}"
    digest_file = tmp_path / "digest"
    podman.run(
        "push",
        "-q",
        "--tls-verify=false",
        "--format",
        fmt,
        "--compression-format",
        compression,
        "--digestfile",
        str(digest_file),
        local,
        f"docker://{name}",
    )
    digest = digest_file.read_text().strip()

    pulled = dockyard.run("pull", name).stdout

    assert f"Digest: {digest}" in pulled
    ours = inspect(dockyard, name)
    assert_same_image(ours, podman.inspect(local))
    assert ours["Config"]["Labels"] == {"made": "podman"}
    layer = top_dir(dockyard, name)
    assert hashlib.sha256((layer / "bin/busybox").read_bytes()).hexdigest() == busybox_sha256()
    assert (layer / "variant").read_text() == variant
    manifest = json.loads((dockyard.root / "blobs/sha256" / digest[7:]).read_text())
    wanted = "+zstd" if compression == "zstd" else ".gzip" if fmt == "v2s2" else "+gzip"
    assert [layer["mediaType"][-5:] for layer in manifest["layers"]] == [wanted]


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-dir"])
def test_we_load_what_podman_saves(
    dockyard: Dockyard, podman: Podman, podman_images: list[str], tmp_path: Path, fmt: str
) -> None:
    archive = tmp_path / "podman-saved"
    podman.run("save", "-q", "--format", fmt, "-o", str(archive), IMPORTED)

    out = dockyard.run("load", "-i", str(archive)).stdout

    theirs = podman.inspect(IMPORTED)
    if "Loaded image ID:" in out:  # an archive without a name: podman's oci-dir
        assert f"sha256:{theirs['Id']}" in out
    else:
        assert "Loaded image: localhost/podman/imported:1" in out
    ours = inspect(dockyard, "sha256:" + theirs["Id"])
    assert_same_image(ours, theirs)
    assert (
        dockyard.run("system", "check", "--no-repair")
        .stdout.strip()
        .endswith("the store is consistent")
    )


def test_we_load_podmans_multi_image_archive(
    dockyard: Dockyard, podman: Podman, podman_images: list[str], tmp_path: Path
) -> None:
    archive = tmp_path / "both.tar"
    podman.run("save", "-q", "-m", "--format", "docker-archive", "-o", str(archive), *podman_images)

    out = dockyard.run("load", "-i", str(archive)).stdout

    for name in podman_images:
        assert f"Loaded image: {name}" in out
        assert_same_image(inspect(dockyard, name), podman.inspect(name))
    first, second = (inspect(dockyard, name) for name in podman_images)
    assert first["RootFS"]["Layers"] == second["RootFS"]["Layers"]  # one layer, stored once
    assert len(list((dockyard.root / "layers").iterdir())) == 1
