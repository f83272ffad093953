"""Volumes: named (seeded from the image), anonymous (the image's VOLUME), binds, --mount;
``volume create/ls/inspect/rm/prune``; rm -v; a volume in use stays."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages


def test_a_new_named_volume_is_seeded_from_the_image_and_outlives_its_container(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    image = engine_images.volume
    first = dockyard.run(
        "run", "--rm", "-v", "data:/data", image, "sh", "-c",
        "stat -c '%u:%g %a' /data/seed.txt; cat /data/seed.txt; echo more > /data/added",
    ).stdout  # fmt: skip
    second = dockyard.run("run", "--rm", "-v", "data:/data", image, "cat", "/data/added").stdout

    assert first == "1000:1000 640\nseeded from the image\n"
    assert second == "more\n"
    assert json.loads(dockyard.run("volume", "inspect", "data").stdout)[0]["Name"] == "data"


def test_the_images_volume_becomes_an_anonymous_volume_that_rm_v_removes(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("run", "--name", "anon", engine_images.volume, "cat", "/data/seed.txt")
    mounts = dockyard.inspect("anon")["Mounts"]
    assert len(mounts) == 1  # type: ignore[arg-type]
    name = mounts[0]["Name"]  # type: ignore[index]
    assert mounts[0]["Destination"] == "/data" and len(name) == 64  # type: ignore[index]
    assert dockyard.run("logs", "anon").stdout == "seeded from the image\n"
    assert name in dockyard.run("volume", "ls", "-q").stdout.split()

    dockyard.run("rm", "-v", "anon")

    assert name not in dockyard.run("volume", "ls", "-q").stdout.split()


def test_nocopy_leaves_a_new_volume_empty(dockyard: Dockyard, engine_images: EngineImages) -> None:
    out = dockyard.run(
        "run", "--rm", "--mount", "type=volume,source=empty,target=/data,volume-nocopy",
        engine_images.volume, "ls", "-A", "/data",
    ).stdout  # fmt: skip
    assert out == ""


def test_binds_read_only_and_relabel_options(
    dockyard: Dockyard, engine_images: EngineImages, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "in").write_text("from the host\n")
    made = tmp_path / "made-by-v"
    out = dockyard.run(
        "run", "--rm", "-v", f"{shared}:/in:ro,Z", "-v", f"{made}:/made:z",
        "--mount", f"type=bind,source={shared},target=/rw", engine_images.busybox, "sh", "-c",
        "cat /in/in; touch /in/x 2>/dev/null || echo ro; echo hi > /rw/written; ls -d /made",
    ).stdout  # fmt: skip

    assert out.splitlines() == ["from the host", "ro", "/made"]
    assert (shared / "written").read_text() == "hi\n"
    assert made.is_dir()  # -v makes a missing host directory, as Docker does
    missing = dockyard.run(
        "run", "--rm", "--mount", f"type=bind,source={tmp_path}/nope,target=/x",
        engine_images.busybox, "true", check=False,
    )  # fmt: skip
    assert missing.returncode == 125 and "bind source path does not exist" in missing.stderr


def test_volume_verbs_and_a_volume_in_use(dockyard: Dockyard, engine_images: EngineImages) -> None:
    assert dockyard.run("volume", "create", "--label", "k=v", "named").stdout == "named\n"
    anonymous = dockyard.run("volume", "create").stdout.strip()
    dockyard.run(
        "run", "-d", "--name", "user", "-v", "named:/v", engine_images.busybox, "sleep", "1000"
    )

    listing = dockyard.run("volume", "ls").stdout.splitlines()
    assert listing[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert sorted(line.split()[1] for line in listing[1:]) == sorted([anonymous, "named"])
    assert dockyard.run("volume", "ls", "-q", "--filter", "label=k=v").stdout == "named\n"
    assert (
        dockyard.run("volume", "ls", "-q", "--filter", "dangling=true").stdout == f"{anonymous}\n"
    )
    info = json.loads(dockyard.run("volume", "inspect", "named").stdout)[0]
    assert info["Labels"] == {"k": "v"} and info["Driver"] == "local" and info["Scope"] == "local"
    assert info["Mountpoint"] == f"{dockyard.root}/volumes/named/_data"

    in_use = dockyard.run("volume", "rm", "named", check=False)
    assert in_use.returncode == 1 and "volume is in use" in in_use.stderr
    pruned = dockyard.run("volume", "prune", "-f").stdout
    assert anonymous in pruned and "named" not in pruned
    dockyard.run("rm", "-f", "user")
    assert dockyard.run("volume", "rm", "named").stdout == "named\n"
    assert dockyard.run("volume", "ls", "-q").stdout == ""
    missing = dockyard.run("volume", "rm", "named", check=False)
    assert missing.returncode == 1 and "no such volume" in missing.stderr
