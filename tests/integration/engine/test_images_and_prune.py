"""Images with containers on them: ``rmi``'s conflicts, ``image prune`` and ``system prune``."""

from __future__ import annotations

import time

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

from dockyard.client import APIError


def _error(result: object, text: str) -> None:
    assert result.returncode == 1, result  # type: ignore[attr-defined]
    assert result.stderr == f"Error response from daemon: {text}\n", result  # type: ignore[attr-defined]


def _image_ids(dockyard: Dockyard) -> set[str]:
    return set(dockyard.run("images", "-q", "--no-trunc").stdout.split())


def test_rmi_refuses_an_image_containers_use_as_docker_does(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    image = engine_images.busybox
    dockyard.run("pull", image)
    image_id = dockyard.run("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    short = image_id[7:19]
    stopped = dockyard.run("create", image).stdout.strip()

    _error(
        dockyard.run("rmi", image, check=False),
        f'conflict: unable to remove repository reference "{image}" (must force) - '
        f"container {stopped[:12]} is using its referenced image {short}",
    )
    _error(
        dockyard.run("rmi", short, check=False),
        f"conflict: unable to delete {short} (must be forced) - image is being used by "
        f"stopped container {stopped[:12]}",
    )
    running = dockyard.run("run", "-d", image, "sleep", "1000").stdout.strip()
    _error(
        dockyard.run("rmi", "-f", short, check=False),
        f"conflict: unable to delete {short} (cannot be forced) - image is being used by "
        f"running container {running[:12]}",
    )
    # another name of the image goes without fuss
    dockyard.run("tag", image, "second:name")
    assert dockyard.run("rmi", "second:name").stdout == "Untagged: second:name\n"
    # -f of the last name while a container runs it: the name goes, the image stays
    untagged = dockyard.run("rmi", "-f", image).stdout
    assert untagged.startswith(f"Untagged: {image}:latest\n") and "Deleted" not in untagged
    assert image_id in _image_ids(dockyard)
    assert dockyard.inspect(running)["State"]["Status"] == "running"  # type: ignore[index]

    dockyard.run("rm", "-f", running)
    deleted = dockyard.run("rmi", "-f", short).stdout  # a stopped container's: -f deletes it
    assert f"Deleted: {image_id}" in deleted
    assert _image_ids(dockyard) == set()
    dockyard.run("start", stopped)  # its layers stay with it
    dockyard.run("rm", "-f", stopped)


def test_image_prune_asks_and_keeps_what_containers_use(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("pull", engine_images.busybox)
    dockyard.run("pull", engine_images.volume)
    dockyard.run("pull", engine_images.configured)
    dockyard.run("create", engine_images.volume)
    dockyard.run("tag", engine_images.configured, "labelled:1")
    dockyard.run("rmi", engine_images.configured)  # still tagged labelled:1

    refused = dockyard.run("image", "prune", "-a", input=b"no\n")
    assert refused.stdout == (
        "WARNING! This will remove all images without at least one container associated "
        "to them.\nAre you sure you want to continue? [y/N] "
    )
    assert len(_image_ids(dockyard)) == 3

    keep = dockyard.run("image", "prune", "-a", "-f", "--filter", "label!=from=image").stdout
    assert "deleted: sha256:" in keep and "untagged: " in keep
    left = dockyard.run("images", "--format", "{{.Repository}}").stdout.split()
    assert sorted(left) == sorted(["labelled", engine_images.volume])  # busybox went

    dockyard.run("image", "prune", "-a", "-f")
    assert dockyard.run("images", "--format", "{{.Repository}}").stdout.split() == [
        engine_images.volume  # a container stands on it
    ]
    nothing = dockyard.run("image", "prune", "-f").stdout
    assert nothing == "Total reclaimed space: 0B\n"


def test_system_prune_removes_stopped_containers_dangling_images_and_with_volumes_volumes(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    image = engine_images.volume
    dockyard.run("run", "-d", "--name", "alive", image, "sleep", "1000")
    dockyard.run("run", "--name", "dead", image, "sh", "-c", "echo x > /data/more")
    dockyard.run("volume", "create", "named")
    anonymous = [m["Name"] for m in dockyard.inspect("dead")["Mounts"]]  # type: ignore[index]
    dockyard.run("pull", engine_images.busybox)
    dockyard.run("tag", engine_images.busybox, "spare:1")

    prompt = dockyard.run("system", "prune", "--volumes", input=b"n\n").stdout
    assert prompt == (
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all networks not used by at least one container\n"
        "  - all anonymous volumes not used by at least one container\n"
        "  - all dangling images\n"
        "  - unused build cache\n"
        "Are you sure you want to continue? [y/N] "
    )
    assert sorted(dockyard.run("ps", "-a", "--format", "{{.Names}}").stdout.split()) == [
        "alive",
        "dead",
    ]

    out = dockyard.run("system", "prune", "-f", "--volumes").stdout

    left = dockyard.ids()
    assert out.startswith("Deleted Containers:\n")
    assert "Deleted Volumes:\n" + "".join(f"{n}\n" for n in anonymous) in out
    assert out.rstrip("\n").splitlines()[-1].startswith("Total reclaimed space: ")
    assert len(left) == 1
    volumes = dockyard.run("volume", "ls", "-q").stdout.split()
    assert "named" in volumes and not set(anonymous) & set(volumes)
    assert "spare" in dockyard.run("images").stdout  # tagged: not dangling

    everything = dockyard.run("system", "prune", "-a", "-f").stdout
    assert everything.startswith("Deleted Images:\n") and "untagged: spare:1\n" in everything
    assert dockyard.run("images", "--format", "{{.Repository}}").stdout.split() == [image]
    bad = dockyard.run("system", "prune", "-f", "--volumes", "--filter", "until=1h", check=False)
    assert bad.returncode == 1
    assert bad.stderr == 'Error: The "until" filter is not supported with "--volumes"\n'


def test_the_python_api_lists_removes_and_prunes_images(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    with dockyard_client(dockyard) as client:
        busybox = client.images.pull(engine_images.busybox, tag="latest")
        configured = client.images.pull(engine_images.configured, tag="latest")
        box = client.containers.create(engine_images.busybox, "true")

        assert client.images.list(filters={"label": "from=image"}) == [configured]
        assert client.images.list(name=engine_images.busybox) == [busybox]
        assert client.images.list(filters={"dangling": True}) == []
        with pytest.raises(APIError) as caught:
            client.images.remove(engine_images.busybox)
        assert caught.value.status_code == 409

        time.sleep(0.01)
        report = client.images.prune(filters={"dangling": False})
        assert {"Deleted": configured.id} in report["ImagesDeleted"]
        assert report["SpaceReclaimed"] > 0
        assert client.images.list() == [busybox]
        box.remove()
        client.images.remove(busybox.id)
        assert client.images.list() == []
