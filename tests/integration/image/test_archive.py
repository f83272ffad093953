"""save/load (docker-archive, oci-archive, OCI dirs), import/export, and skopeo both ways."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.integration.image.conftest import Dockyard, SampleImages
from tests.integration.image.test_input import exported_container

pytestmark = pytest.mark.integration

needs_skopeo = pytest.mark.skipif(not shutil.which("skopeo"), reason="needs skopeo (apt)")


def ids(dockyard: Dockyard) -> set[str]:
    return set(dockyard.run("images", "-q", "--no-trunc").stdout.split())


def skopeo(*args: str) -> str:
    return subprocess.run(
        ["skopeo", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_several_images_and_load_them_elsewhere(
    loaded: Dockyard, tmp_path: Path, fmt: str
) -> None:
    archive = tmp_path / "images.tar"
    loaded.run("save", "--format", fmt, "-o", str(archive), "bb-single", "bb-multi")
    fresh = Dockyard(tmp_path / "other", tmp_path / "other-config")

    out = fresh.run("load", "-i", str(archive)).stdout

    assert "Loaded image: bb-single:latest" in out and "Loaded image: bb-multi:latest" in out
    for name in ("bb-single", "bb-multi"):
        assert (
            fresh.run("image", "inspect", "-f", "{{.Id}}", name).stdout
            == loaded.run("image", "inspect", "-f", "{{.Id}}", name).stdout
        )


def test_save_to_stdout_and_load_from_stdin(loaded: Dockyard, tmp_path: Path) -> None:
    saved = subprocess.run(
        [*_cmd(loaded), "save", "bb-multi"], env=loaded.env, capture_output=True, check=True
    ).stdout
    fresh = Dockyard(tmp_path / "other", tmp_path / "other-config")

    fresh.run("load", input=saved)

    assert "bb-multi" in fresh.run("images").stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(saved)) as tar:
        names = tar.getnames()
    assert {"manifest.json", "index.json", "oci-layout"} <= set(names)


def _cmd(dockyard: Dockyard) -> list[str]:
    from tests.integration.image.conftest import DOCKYARD

    return [str(DOCKYARD)]


@needs_skopeo
def test_skopeo_reads_what_we_write(
    loaded: Dockyard, tmp_path: Path, test_images: SampleImages
) -> None:
    docker_archive, oci_archive, oci_dir = (
        tmp_path / "d.tar",
        tmp_path / "o.tar",
        tmp_path / "layout",
    )
    loaded.run("save", "-o", str(docker_archive), "bb-multi")
    loaded.run("save", "--format", "oci-archive", "-o", str(oci_archive), "bb-multi")
    loaded.run("save", "--format", "oci-dir", "-o", str(oci_dir), "bb-multi")

    for source in (
        f"docker-archive:{docker_archive}",
        f"oci-archive:{oci_archive}",
        f"oci:{oci_dir}:latest",
    ):
        info = json.loads(skopeo("inspect", "--config", source))
        assert info["config"]["Labels"] == {"layers": "three"}, source
        assert len(info["rootfs"]["diff_ids"]) == 3
    copied = tmp_path / "copied"
    skopeo("copy", f"docker-archive:{docker_archive}", f"dir:{copied}")
    assert (copied / "manifest.json").exists()


@needs_skopeo
def test_we_read_what_skopeo_writes(
    loaded: Dockyard, tmp_path: Path, test_images: SampleImages
) -> None:
    oci_dir = tmp_path / "ours"
    loaded.run("save", "--format", "oci-dir", "-o", str(oci_dir), "bb-multi")
    skopeo_archive = tmp_path / "skopeo-docker.tar"
    skopeo_oci = tmp_path / "skopeo-oci"
    skopeo("copy", f"oci:{oci_dir}:latest", f"docker-archive:{skopeo_archive}:sk/multi:1")
    skopeo("copy", f"oci:{oci_dir}:latest", f"oci:{skopeo_oci}:v2")
    fresh = Dockyard(tmp_path / "other", tmp_path / "other-config")

    fresh.run("load", "-i", str(skopeo_archive))
    fresh.run("load", "-i", str(skopeo_oci))

    assert test_images.multi.id in ids(fresh)
    assert "sk/multi" in fresh.run("images").stdout
    check = fresh.run("system", "check").stdout
    assert "the store is consistent" in check


def test_import_a_rootfs_tarball_and_export_it(loaded: Dockyard, tmp_path: Path) -> None:
    exported = tmp_path / "flat.tar"
    with exported_container(loaded, tmp_path / "run", "bb-multi") as container:
        loaded.run("export", "-o", str(exported), container)
    with tarfile.open(exported) as tar:
        names = set(tar.getnames())
        motd = tar.extractfile("etc/motd")
        assert motd is not None and motd.read() == b"layer three\n"
    assert "etc/secret" not in names and "var/cache/old" not in names
    assert {"bin/busybox", "var/cache/new", "opt/data/two"} <= names

    new_id = loaded.run(
        "import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV A=b", str(exported), "flat:1"
    ).stdout.strip()

    config = json.loads(loaded.run("image", "inspect", "-f", "{{json .Config}}", "flat:1").stdout)
    assert config["Cmd"] == ["/bin/sh"] and config["Env"] == ["A=b"]
    assert new_id.startswith("sha256:")
    assert (
        len(json.loads(loaded.run("image", "inspect", "flat:1").stdout)[0]["RootFS"]["Layers"]) == 1
    )
