"""``diff``, ``commit`` and ``export``: a container's changes, with Dockyard's runtime and runc."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import time

from tests.integration.engine.conftest import DOCKYARD, Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client

CHANGES = "echo hi > /tmp/x; rm /etc/group; mkdir -p /a/b; echo 1 > /a/b/c"


def _run_changed(dockyard: Dockyard, image: str, name: str, runtime: str) -> None:
    """A running container that has made CHANGES (and says so in its log)."""
    dockyard.run(
        "run", "-d", "--name", name, "--runtime", runtime, image,
        "sh", "-c", f"{CHANGES}; echo ready; exec sleep 1000",
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while "ready" not in dockyard.run("logs", name).stdout:
        assert time.monotonic() < deadline, "the container never made its changes"
        time.sleep(0.05)


def _bytes(dockyard: Dockyard, *args: str) -> bytes:
    """The CLI's stdout as bytes (a tar)."""
    done = subprocess.run([str(DOCKYARD), *args], env=dockyard.env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _one_error(result: object, text: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and text in lines[0], lines


def test_diff_lists_added_changed_and_deleted_paths_as_docker(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    _run_changed(dockyard, engine_images.busybox, "changed", runtime)

    assert dockyard.run("diff", "changed").stdout.splitlines() == [
        "A /a",
        "A /a/b",
        "A /a/b/c",
        "C /etc",
        "D /etc/group",
        "C /tmp",
        "A /tmp/x",
    ]
    # what the runtime made to mount /etc/hosts and friends over is Docker's init
    # layer, not the container's: a fresh container has no changes
    dockyard.run("create", "--name", "fresh", "--runtime", runtime, engine_images.busybox)
    assert dockyard.run("container", "diff", "fresh").stdout == ""
    dockyard.run("start", "fresh")
    assert dockyard.run("diff", "fresh").stdout == ""


def test_diff_of_a_missing_container_is_one_line(dockyard: Dockyard) -> None:
    _one_error(dockyard.run("diff", "nothing", check=False), "No such container: nothing")
    usage = dockyard.run("diff", check=False)
    assert usage.returncode == 1 and '"dockyard diff" requires exactly 1 argument' in usage.stderr


def test_commit_makes_an_image_with_dockers_config_and_history(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    _run_changed(dockyard, engine_images.busybox, "source", runtime)
    source_id = dockyard.inspect("source")["Id"]

    image_id = dockyard.run(
        "commit", "-a", "Ann <ann@example.com>", "-m", "saved by a test",
        "-c", 'ENV GREETING="hello there"', "-c", "LABEL stage=committed",
        "-c", "EXPOSE 8080 53/udp", "source", "saved:v1",
    ).stdout.strip()  # fmt: skip

    assert image_id.startswith("sha256:") and len(image_id) == 71
    state = dockyard.inspect("source")["State"]
    assert state["Status"] == "running" and not state["Paused"]  # type: ignore[index]
    images = dockyard.run("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout
    assert f"saved:v1 {image_id[7:19]}" in images.splitlines()
    info = json.loads(dockyard.run("image", "inspect", "saved:v1").stdout)[0]
    assert info["Id"] == image_id and info["Author"] == "Ann <ann@example.com>"
    assert info["Comment"] == "saved by a test"
    config = info["Config"]
    assert config["Cmd"] == ["sh", "-c", f"{CHANGES}; echo ready; exec sleep 1000"]
    assert "GREETING=hello there" in config["Env"]
    assert config["Labels"] == {"stage": "committed"}
    assert sorted(config["ExposedPorts"]) == ["53/udp", "8080/tcp"]
    assert config["Hostname"] == source_id[:12]  # type: ignore[index]
    base = json.loads(dockyard.run("image", "inspect", engine_images.busybox).stdout)[0]
    assert info["RootFS"]["Layers"][:-1] == base["RootFS"]["Layers"]
    assert len(info["RootFS"]["Layers"]) == len(base["RootFS"]["Layers"]) + 1

    history = dockyard.run(
        "history", "--no-trunc", "--format", "{{.CreatedBy}}|{{.Comment}}|{{.Size}}", "saved:v1"
    ).stdout.splitlines()
    assert history[0] == f"sh -c {CHANGES}; echo ready; exec sleep 1000|saved by a test|5B"
    # the image runs: the changes are there, the runtime's stubs are not
    out = dockyard.run(
        "run", "--rm", "--runtime", runtime, "saved:v1",
        "sh", "-c", "cat /tmp/x /a/b/c; ls /etc; echo $GREETING",
    ).stdout  # fmt: skip
    assert out == "hi\n1\nhostname\nhosts\npasswd\nresolv.conf\nhello there\n"
    layer = _top_layer(dockyard, "saved:v1")
    assert layer == {
        "a/", "a/b/", "a/b/c", "etc/", "etc/.wh.group", "tmp/", "tmp/x",
    }  # fmt: skip


def _top_layer(dockyard: Dockyard, image: str) -> set[str]:
    """The entries of an image's last layer, read from ``save``'s archive."""
    archive = _bytes(dockyard, "save", image)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        top = tar.extractfile(manifest[0]["Layers"][-1])
        assert top is not None
        with tarfile.open(fileobj=io.BytesIO(top.read())) as layer:
            return {m.name + ("/" if m.isdir() else "") for m in layer.getmembers()}


def test_commit_changes_follow_dockerfile_rules(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("create", "--name", "plain", engine_images.busybox, "sleep", "5")

    def config(*changes: str) -> dict[str, object]:
        args = [a for c in changes for a in ("-c", c)]
        image = dockyard.run("commit", *args, "plain").stdout.strip()
        return json.loads(dockyard.run("image", "inspect", image).stdout)[0]["Config"]  # type: ignore[no-any-return]

    entry = config('ENTRYPOINT ["/bin/echo"]')
    assert entry["Entrypoint"] == ["/bin/echo"] and entry["Cmd"] is None
    both = config("CMD echo hi", 'ENTRYPOINT ["/bin/sh", "-c"]')
    assert both["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert both["Entrypoint"] == ["/bin/sh", "-c"]
    misc = config(
        "WORKDIR /srv", "WORKDIR app", "USER test", "VOLUME /data /logs", "STOPSIGNAL SIGINT"
    )
    assert misc["WorkingDir"] == "/srv/app" and misc["User"] == "test"
    assert misc["Volumes"] == {"/data": {}, "/logs": {}} and misc["StopSignal"] == "SIGINT"
    assert misc["Cmd"] == ["sleep", "5"]

    before = dockyard.run("images", "-q").stdout
    _one_error(
        dockyard.run("commit", "-c", "FROM scratch", "plain", check=False),
        "from is not a valid change command",
    )
    _one_error(
        dockyard.run("commit", "plain", "Not A Name", check=False), "invalid reference format"
    )
    assert dockyard.run("images", "-q").stdout == before


def test_commit_of_an_unchanged_container_adds_an_empty_history_entry(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    dockyard.run("create", "--name", "unchanged", engine_images.busybox, "true")

    dockyard.run("commit", "unchanged", "same:1")

    base = json.loads(dockyard.run("image", "inspect", engine_images.busybox).stdout)[0]
    same = json.loads(dockyard.run("image", "inspect", "same:1").stdout)[0]
    assert same["RootFS"]["Layers"] == base["RootFS"]["Layers"]
    assert dockyard.run("history", "-q", "same:1").stdout.splitlines()[0] == same["Id"][7:19]
    assert dockyard.run("history", "--format", "{{.Size}}", "same:1").stdout.startswith("0B\n")


def _ticks(dockyard: Dockyard, name: str) -> int:
    return len(dockyard.run("logs", name).stdout.split())


def test_commit_leaves_a_paused_container_paused_and_thaws_one_it_froze(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str
) -> None:
    dockyard.run(
        "run", "-d", "--name", "counting", "--runtime", runtime, engine_images.busybox,
        "sh", "-c", "while :; do echo tick; sleep 0.02; done",
    )  # fmt: skip
    dockyard.run("commit", "counting", "ticks:1")
    assert dockyard.inspect("counting")["State"]["Status"] == "running"  # type: ignore[index]
    count = _ticks(dockyard, "counting")
    time.sleep(0.3)
    assert _ticks(dockyard, "counting") > count  # thawed

    dockyard.run("pause", "counting")
    dockyard.run("commit", "counting", "ticks:2")
    assert dockyard.inspect("counting")["State"]["Status"] == "paused"  # type: ignore[index]
    dockyard.run("unpause", "counting")
    dockyard.run("commit", "--pause=false", "counting", "ticks:3")
    assert dockyard.inspect("counting")["State"]["Status"] == "running"  # type: ignore[index]


def test_export_writes_the_containers_filesystem(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str, tmp_path: object
) -> None:
    _run_changed(dockyard, engine_images.busybox, "exported", runtime)

    running = _bytes(dockyard, "export", "exported")
    dockyard.run("stop", "-t", "0", "exported")
    rootfs = dockyard.root / "snapshots" / dockyard.inspect("exported")["Id"] / "rootfs"  # type: ignore[operator]
    assert not os.path.ismount(rootfs)
    out = f"{tmp_path}/stopped.tar"
    dockyard.run("container", "export", "-o", out, "exported")
    assert not os.path.ismount(rootfs)  # mounted for the export only

    with open(out, "rb") as f:
        stopped = f.read()
    for archive in (running, stopped):
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            names = set(tar.getnames())
            x = tar.extractfile("tmp/x")
            assert x is not None and x.read() == b"hi\n"
        assert {"bin/busybox", "a/b/c", "etc/passwd"} <= names
        assert "etc/group" not in names


def test_export_of_a_missing_container_is_one_line(dockyard: Dockyard, tmp_path: object) -> None:
    _one_error(dockyard.run("export", "nothing", check=False), "No such container: nothing")
    missing_dir = f"{tmp_path}/no/such/dir/out.tar"
    _one_error(dockyard.run("export", "-o", missing_dir, "x", check=False), "does not exist")


def test_the_python_api_diffs_commits_and_exports(
    dockyard: Dockyard, engine_images: EngineImages
) -> None:
    with dockyard_client(dockyard) as client:
        client.images.pull(engine_images.busybox, tag="latest")
        box = client.containers.run(
            engine_images.busybox, ["sh", "-c", "echo hi > /tmp/x"], detach=True
        )
        assert box.wait()["StatusCode"] == 0

        assert box.diff() == [{"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/x", "Kind": 1}]
        image = box.commit("api-saved", "v2", message="from the API", changes=["ENV K=V"])
        assert "api-saved:v2" in image.tags and "K=V" in image.attrs["Config"]["Env"]
        data = b"".join(box.export(chunk_size=4096))
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            assert "tmp/x" in tar.getnames()
        box.remove()
