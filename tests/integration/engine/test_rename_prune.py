"""``rename`` and ``container prune``, through the CLI and the Python API."""

from __future__ import annotations

import time

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

from dockyard.client import APIError, NotFound


def _names(dockyard: Dockyard) -> list[str]:
    return sorted(dockyard.run("ps", "-a", "--format", "{{.Names}}").stdout.split())


def _error(result: object, text: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0] == f"Error response from daemon: {text}", lines


def test_rename_moves_the_name_and_frees_the_old_one(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    first = dockyard.run(
        "run", "-d", "--name", "old", "--runtime", runtime, engine_images.busybox, "sleep", "1000"
    ).stdout.strip()

    result = dockyard.run("rename", "old", "new")

    assert result.stdout == "" and result.stderr == ""
    assert _names(dockyard) == ["new"]
    info = dockyard.inspect("new")
    assert info["Id"] == first and info["Name"] == "/new"
    assert info["State"]["Status"] == "running"  # type: ignore[index]
    dockyard.run("create", "--name", "old", engine_images.busybox)  # the old name is free
    assert _names(dockyard) == ["new", "old"]
    dockyard.run("container", "rename", first[:12], "renamed-by-id")  # any way of naming it
    dockyard.run("stop", "-t", "0", "renamed-by-id")  # and it is the same container
    assert _names(dockyard) == ["old", "renamed-by-id"]


def test_rename_refuses_as_docker_does(dockyard: Dockyard, engine_images: EngineImages) -> None:
    dockyard.run("create", "--name", "one", engine_images.busybox)
    two = dockyard.run("create", "--name", "two", engine_images.busybox).stdout.strip()

    _error(
        dockyard.run("rename", "one", "two", check=False),
        f'Conflict. The container name "/two" is already in use by container "{two}". '
        "You have to remove (or rename) that container to be able to reuse that name.",
    )
    _error(dockyard.run("rename", "missing", "x", check=False), "No such container: missing")
    _error(
        dockyard.run("rename", "one", "one", check=False),
        "Renaming a container with the same name as its current name",
    )
    _error(
        dockyard.run("rename", "one", "bad/name", check=False),
        "Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
    )
    _error(dockyard.run("rename", "one", "", check=False), "Neither old nor new names may be empty")
    usage = dockyard.run("rename", "one", check=False)
    assert usage.returncode == 1
    assert usage.stderr.startswith('"dockyard rename" requires exactly 2 arguments.')
    assert _names(dockyard) == ["one", "two"]


def test_many_renames_to_one_name_at_once_give_it_to_exactly_one(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    import subprocess

    from tests.integration.engine.conftest import DOCKYARD

    for i in range(8):
        dockyard.run("create", "--name", f"c{i}", engine_images.busybox)
    procs = [
        subprocess.Popen(
            [str(DOCKYARD), "rename", f"c{i}", "winner"],
            env=dockyard.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    codes = [p.wait(timeout=60) for p in procs]
    for p in procs:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.close()
        err = p.stderr.read().decode()
        p.stderr.close()
        assert p.returncode == 0 or "is already in use" in err, err

    assert codes.count(0) == 1
    names = _names(dockyard)
    assert len(names) == 8 and len(set(names)) == 8 and "winner" in names


def test_container_prune_removes_stopped_containers_only(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    run = ("--runtime", runtime, engine_images.busybox)
    dockyard.run("run", "-d", "--name", "running", *run, "sleep", "1000")
    exited = dockyard.run(
        "run", "--name", "exited", *run, "sh", "-c", "head -c 3000 /dev/zero > /big"
    )
    assert exited.returncode == 0
    created = dockyard.run("create", "--name", "created", *run).stdout.strip()
    exited_id = dockyard.inspect("exited")["Id"]

    refused = dockyard.run("container", "prune", input=b"n\n")
    assert refused.stdout == (
        "WARNING! This will remove all stopped containers.\n"
        "Are you sure you want to continue? [y/N] "
    )
    assert _names(dockyard) == ["created", "exited", "running"]

    pruned = dockyard.run("container", "prune", input=b"y\n").stdout

    head, _, rest = pruned.partition("Deleted Containers:\n")
    assert head.endswith("[y/N] ")
    deleted, _, total = rest.partition("\n\n")
    assert sorted(deleted.split()) == sorted([created, exited_id])  # type: ignore[list-item]
    assert total == "Total reclaimed space: 3kB\n"
    assert _names(dockyard) == ["running"]
    again = dockyard.run("container", "prune", "-f").stdout
    assert again == "Total reclaimed space: 0B\n"


def test_container_prune_filters(dockyard: Dockyard, engine_images: EngineImages) -> None:
    image = engine_images.busybox
    dockyard.run("create", "--name", "old-keep", "-l", "keep=yes", image)
    dockyard.run("create", "--name", "old-drop", "-l", "keep=no", image)
    time.sleep(1.1)
    cutoff = str(time.time())
    dockyard.run("create", "--name", "new-drop", "-l", "keep=no", image)

    dockyard.run(
        "container", "prune", "-f", "--filter", f"until={cutoff}", "--filter", "label=keep=no"
    )
    assert _names(dockyard) == ["new-drop", "old-keep"]
    dockyard.run("container", "prune", "-f", "--filter", "label!=keep=yes")
    assert _names(dockyard) == ["old-keep"]

    bad = dockyard.run("container", "prune", "-f", "--filter", "colour=red", check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "Error: invalid filter 'colour'"
    assert _names(dockyard) == ["old-keep"]


def test_rename_and_prune_through_the_python_api(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    with dockyard_client(dockyard) as client:
        client.images.pull(engine_images.busybox, tag="latest")
        box = client.containers.create(engine_images.busybox, "true", name="api-old")
        other = client.containers.create(engine_images.busybox, "true", name="api-other")

        box.rename("api-new")
        box.reload()
        assert box.name == "api-new"
        with pytest.raises(APIError) as conflict:
            other.rename("api-new")
        assert conflict.value.status_code == 409
        with pytest.raises(NotFound):
            client.containers.get("api-old")

        report = client.containers.prune(filters={"label": "nothing"})
        assert report == {"ContainersDeleted": None, "SpaceReclaimed": 0}
        report = client.containers.prune()
        assert sorted(report["ContainersDeleted"]) == sorted([box.id, other.id])
        assert client.containers.list(all=True) == []
    assert dockyard.ids() == []
