"""``run``/``create --platform`` as Docker's CLI and daemon: an image of another platform
than the one asked for is "found but does not match", so (``--pull missing``) the asked-for
platform is pulled in its place; with ``--pull never`` that is the error."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages, _busybox_layer
from tests.integration.image.builder import Image, write_layout
from tests.support.registry import Registry


def _push_two_platforms(registry: Registry, work: Path) -> str:
    base = _busybox_layer(work)
    layout = write_layout(
        work / "layout",
        {
            "docker.io/library/platforms:platforms": [
                Image([base], labels={"arch": "amd64"}),  # type: ignore[list-item]
                Image([base], architecture="arm64", variant="v8", labels={"arch": "arm64"}),  # type: ignore[list-item]
            ]
        },
    )
    subprocess.run(
        [
            "skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false",
            f"oci:{layout}:platforms", f"docker://{registry.host}/platforms:latest",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return f"{registry.host}/platforms"


def _arch(dockyard: Dockyard, image: str) -> str:
    fmt = "{{.Os}}/{{.Architecture}} {{.Config.Labels.arch}}"
    return dockyard.run("image", "inspect", "-f", fmt, image).stdout.strip()


def test_platform_picks_pulls_and_refuses_as_docker(
    dockyard: Dockyard, engine_images: EngineImages, registry: Registry, tmp_path: Path
) -> None:
    image = _push_two_platforms(registry, tmp_path)

    made = dockyard.run("create", "--name", "arm", "--platform", "linux/arm64", image)
    assert f"Unable to find image '{image}:latest' locally" in made.stderr
    assert _arch(dockyard, image) == "linux/arm64 arm64"  # chosen from the index

    # the local image is arm64: asking for amd64 pulls amd64 in its place
    again = dockyard.run("create", "--name", "amd", "--platform", "linux/amd64", image)
    assert f"Unable to find image '{image}:latest' locally" in again.stderr
    assert "Pulling from platforms" in again.stderr
    assert _arch(dockyard, image) == "linux/amd64 amd64"
    # ... which runs here; a matching local image is used as it is
    ran = dockyard.run("run", "--rm", "--platform", "linux/amd64", image, "echo", "ran")
    assert (ran.stdout, ran.stderr) == ("ran\n", "")

    refused = dockyard.run(
        "create", "--pull", "never", "--platform", "linux/arm64", image, check=False
    )
    assert refused.returncode == 1, refused  # create's failures: 1, as Docker's CLI
    assert refused.stderr == (
        f"Error response from daemon: image with reference {image} was found but does not "
        "match the specified platform: wanted linux/arm64, actual: linux/amd64\n"
    )
    refused_run = dockyard.run(
        "run", "--rm", "--pull", "never", "--platform", "linux/arm64", image, "true", check=False
    )
    assert refused_run.returncode == 125, refused_run
    assert "does not match the specified platform" in refused_run.stderr
    assert _arch(dockyard, image) == "linux/amd64 amd64"  # nothing pulled

    bad = dockyard.run("create", "--platform", "linux/", image, check=False)
    assert bad.returncode == 1 and "invalid platform 'linux/'" in bad.stderr
    assert sorted(dockyard.run("ps", "-a", "--format", "{{.Names}}").stdout.split()) == [
        "amd",
        "arm",
    ]
