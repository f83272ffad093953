"""``info``, ``version`` and ``system df``: Docker's sections and columns, CLI and Python API."""

from __future__ import annotations

import json
import os
import platform
import time

from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client


def _three_states(dockyard: Dockyard, image: str, runtime: str) -> None:
    """One running, one paused and one exited container, each having written 2000 bytes."""
    write = "head -c 2000 /dev/zero > /f"
    for name in ("up", "frozen"):
        dockyard.run(
            "run", "-d", "--name", name, "--runtime", runtime, image,
            "sh", "-c", f"{write}; exec sleep 1000",
        )  # fmt: skip
    dockyard.run("pause", "frozen")
    dockyard.run("run", "--name", "done", "--runtime", runtime, image, "sh", "-c", write)
    deadline = time.monotonic() + 10
    while dockyard.run("diff", "up").stdout.count("/f") == 0:  # the write has happened
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_info_counts_containers_and_names_the_host(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    _three_states(dockyard, engine_images.busybox, runtime)

    text = dockyard.run("info").stdout
    lines = text.splitlines()

    assert lines[0] == "Client: Dockyard" and "Server:" in lines
    for expected in (
        " Containers: 3",
        "  Running: 1",
        "  Paused: 1",
        "  Stopped: 1",
        " Images: 1",
        " Storage Driver: overlay",
        " Logging Driver: json-file",
        " Cgroup Driver: cgroupfs",
        " Default Runtime: dockyard",
        f" Docker Root Dir: {dockyard.root}",
        f" Kernel Version: {os.uname().release}",
        f" Architecture: {platform.machine()}",
        f" CPUs: {os.cpu_count()}",
        " OSType: linux",
    ):
        assert expected in lines, (expected, text)
    runtimes = next(line for line in lines if line.startswith(" Runtimes: ")).split()[1:]
    assert "dockyard" in runtimes and runtime in runtimes
    assert any(line.startswith(" Total Memory: ") and line.endswith("GiB") for line in lines)
    cgroup = "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"
    assert f" Cgroup Version: {cgroup}" in lines

    templated = dockyard.run(
        "info", "-f", "{{.ContainersRunning}} {{.ContainersPaused}} {{.Driver}}"
    ).stdout
    assert templated == "1 1 overlay\n"
    whole = json.loads(dockyard.run("system", "info", "--format", "{{json .}}").stdout)
    assert whole["Containers"] == 3 and whole["DockerRootDir"] == str(dockyard.root)
    assert whole["ClientInfo"]["Context"] == "default"


def test_version_prints_client_and_server_as_docker(dockyard: Dockyard) -> None:
    text = dockyard.run("version").stdout
    lines = text.splitlines()

    assert lines[0] == "Client: Dockyard"
    assert "Server: Dockyard" in lines and " Engine:" in lines
    assert " API version:       1.43" in lines
    assert "  API version:      1.43 (minimum version 1.12)" in lines
    assert f" Python version:    {platform.python_version()}" in lines
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    assert f" OS/Arch:           linux/{arch}" in lines
    assert " dockyard-runtime:" in lines
    doc = json.loads(dockyard.run("version", "--format", "{{json .}}").stdout)
    assert doc["Client"]["ApiVersion"] == doc["Server"]["ApiVersion"] == "1.43"
    assert doc["Server"]["Components"][0]["Name"] == "Engine"
    assert dockyard.run("version", "-f", "{{.Server.APIVersion}}").stdout == "1.43\n"


def test_system_df_sums_images_containers_and_volumes(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run("volume", "create", "kept")
    dockyard.run(
        "run", "--rm", "-v", "kept:/v", engine_images.busybox,
        "sh", "-c", "head -c 3000 /dev/zero > /v/data",
    )  # fmt: skip
    _three_states(dockyard, engine_images.busybox, runtime)
    size = json.loads(dockyard.run("image", "inspect", engine_images.busybox).stdout)[0]["Size"]

    rows = [line.split() for line in dockyard.run("system", "df").stdout.splitlines()]

    assert rows[0] == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert rows[1][:3] == ["Images", "1", "1"]
    assert rows[2] == ["Containers", "3", "2", "6kB", "2kB", "(33%)"]
    assert rows[3] == ["Local", "Volumes", "1", "0", "3kB", "3kB", "(100%)"]
    assert rows[4] == ["Build", "Cache", "0", "0", "0B", "0B"]
    types = dockyard.run("system", "df", "--format", "{{.Type}}={{.TotalCount}}").stdout
    assert types.split() == ["Images=1", "Containers=3", "Local", "Volumes=1", "Build", "Cache=0"]

    verbose = dockyard.run("system", "df", "-v").stdout
    sections = [line for line in verbose.splitlines() if line.endswith(":") or "usage:" in line]
    assert sections == [
        "Images space usage:",
        "Containers space usage:",
        "Local Volumes space usage:",
        "Build cache usage: 0B",
    ]
    header = next(line for line in verbose.splitlines() if line.startswith("REPOSITORY"))
    assert header.split() == [
        "REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE", "SHARED", "SIZE", "UNIQUE", "SIZE",
        "CONTAINERS",
    ]  # fmt: skip
    volume = next(line for line in verbose.splitlines() if line.startswith("kept "))
    assert volume.split() == ["kept", "0", "3kB"]

    with dockyard_client(dockyard) as client:
        usage = client.df()
        assert sorted(c["SizeRw"] for c in usage["Containers"]) == [2000, 2000, 2000]
        assert usage["Images"][0]["Containers"] == 3 and usage["Images"][0]["Size"] == size
        assert usage["Volumes"][0]["UsageData"] == {"Size": 3000, "RefCount": 0}
        assert usage["BuildCache"] == []
        info = client.info()
        assert info["ContainersPaused"] == 1 and info["Images"] == 1
        assert client.version()["Components"][0]["Name"] == "Engine"
    dockyard.run("unpause", "frozen")
