"""``cp`` both ways with Docker's path rules, tar streams, -a and -L, on running and
stopped containers (Dockyard's runtime and runc), volumes included; symlinks in the
container never lead outside it; the Python API's get_archive and put_archive."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from tests.integration.engine.conftest import Dockyard, EngineImages
from tests.integration.engine.test_api import dockyard_client
from tests.support.wait import wait_for

SETUP = (
    "mkdir -p /srv/d/sub && echo hi > /srv/d/a && echo deep > /srv/d/sub/b && "
    "ln -s /srv/d/a /srv/link && ln -s / /srv/up && ln -s ../../../../../.. /srv/dots && "
    "echo vol > /data/v"
)


@pytest.fixture
def box(dockyard: Dockyard, engine_images: EngineImages, runtime: str) -> str:
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "box", "-v", "vol:/data",
        engine_images.busybox, "sh", "-c", f"{SETUP} && sleep 1000",
    )  # fmt: skip
    wait_for(
        lambda: dockyard.run("exec", "box", "cat", "/data/v", check=False).stdout == "vol\n",
        "the container's setup",
    )
    return "box"


def _in(dockyard: Dockyard, *command: str) -> str:
    return dockyard.run("exec", "box", *command).stdout


def _tree(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_text()
    return found


def test_from_a_container_with_dockers_path_rules(
    dockyard: Dockyard, box: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dockyard.run("cp", "box:/srv/d", str(out))  # into an existing directory: keeps its name
    assert _tree(out) == {"d": "dir", "d/a": "hi\n", "d/sub": "dir", "d/sub/b": "deep\n"}
    dockyard.run("cp", "box:/srv/d", str(out / "new"))  # onto a missing path: becomes it
    assert _tree(out / "new") == {"a": "hi\n", "sub": "dir", "sub/b": "deep\n"}
    dockyard.run("cp", "box:/srv/d/.", str(out / "d"))  # "/.": the content only
    assert sorted(os.listdir(out / "d")) == ["a", "sub"]
    dockyard.run("cp", "box:/srv/d/a", str(out / "file"))  # a file onto a missing path
    assert (out / "file").read_text() == "hi\n"
    (out / "exists").write_text("old old old\n")
    dockyard.run("cp", "box:/srv/d/sub/b", str(out / "exists"))  # onto a file: replaces it
    assert (out / "exists").read_text() == "deep\n"
    dockyard.run("cp", "box:/srv/link", str(out))  # a link stays a link
    assert os.readlink(out / "link") == "/srv/d/a"
    dockyard.run("cp", "-L", "box:/srv/link", str(out / "followed"))
    assert (out / "followed").read_text() == "hi\n" and not (out / "followed").is_symlink()
    dockyard.run("cp", "box:/data/v", str(out / "fromvolume"))
    assert (out / "fromvolume").read_text() == "vol\n"

    onto_file = dockyard.run("cp", "box:/srv/d", str(out / "file"), check=False)
    assert (onto_file.returncode, onto_file.stderr) == (1, "cannot copy directory\n")
    no_dir = dockyard.run("cp", "box:/srv/d/a", str(out / "nodir") + "/", check=False)
    assert (no_dir.returncode, no_dir.stderr) == (1, "no such directory\n")
    missing = dockyard.run("cp", "box:/nope", str(out), check=False)
    assert missing.returncode == 1
    assert (
        missing.stderr
        == "Error response from daemon: Could not find the file /nope in container box\n"
    )
    parent = dockyard.run("cp", "box:/srv/d/a", str(out / "x" / "y"), check=False)
    assert (parent.returncode, parent.stderr) == (
        1, f'invalid output path: directory "{out / "x"}" does not exist\n',
    )  # fmt: skip


def test_to_a_container_with_dockers_path_rules(
    dockyard: Dockyard, box: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    (src / "tree" / "inner").mkdir(parents=True)
    (src / "tree" / "f1").write_text("one\n")
    (src / "tree" / "inner" / "f2").write_text("two\n")
    (src / "tree" / "lnk").symlink_to("f1")
    os.chown(src / "tree" / "f1", 1234, 5678)
    os.chmod(src / "tree" / "f1", 0o640)
    (src / "single").write_text("single\n")

    dockyard.run("cp", str(src / "tree"), "box:/srv")
    assert _in(dockyard, "cat", "/srv/tree/f1", "/srv/tree/inner/f2") == "one\ntwo\n"
    assert _in(dockyard, "readlink", "/srv/tree/lnk") == "f1\n"
    # without -a the files are root's; the mode is kept
    assert _in(dockyard, "stat", "-c", "%u:%g %a", "/srv/tree/f1") == "0:0 640\n"
    dockyard.run("cp", "-a", str(src / "tree"), "box:/kept")
    assert _in(dockyard, "stat", "-c", "%u:%g %a", "/kept/f1") == "1234:5678 640\n"
    dockyard.run("cp", str(src / "tree") + "/.", "box:/srv/d")
    assert _in(dockyard, "ls", "/srv/d") == "a\nf1\ninner\nlnk\nsub\n"
    dockyard.run("cp", str(src / "single"), "box:/srv/renamed")
    assert _in(dockyard, "cat", "/srv/renamed") == "single\n"
    dockyard.run("cp", str(src / "single"), "box:/data/")  # into the volume
    again = dockyard.run("run", "--rm", "-v", "vol:/data", _image(dockyard), "cat", "/data/single")
    assert again.stdout == "single\n"
    (src / "tolink").symlink_to("single")
    dockyard.run("cp", "-L", str(src / "tolink"), "box:/srv/")
    assert _in(dockyard, "cat", "/srv/tolink") == "single\n"

    refused = dockyard.run("cp", str(src / "tree"), "box:/srv/renamed", check=False)
    assert (refused.returncode, refused.stderr) == (1, "cannot copy directory\n")
    missing = dockyard.run("cp", str(src / "nope"), "box:/srv", check=False)
    assert missing.returncode == 1
    assert missing.stderr == f"lstat {src / 'nope'}: no such file or directory\n"
    both = dockyard.run("cp", "box:/a", "box:/b", check=False)
    assert both.stderr == "copying between containers is not supported\n"
    neither = dockyard.run("cp", str(src), str(tmp_path / "x"), check=False)
    assert neither.stderr == "must specify at least one container source\n"


def _mounts_under(root: Path) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return sorted(line.split()[4] for line in lines if line.split()[4].startswith(str(root)))


def _image(dockyard: Dockyard) -> str:
    return str(dockyard.inspect("box")["Config"]["Image"])  # type: ignore[index]


def test_tar_streams_both_ways(dockyard: Dockyard, box: str) -> None:
    import subprocess

    proc = dockyard.popen("cp", "box:/srv/d", "-", stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    with tarfile.open(fileobj=io.BytesIO(out)) as tar:
        assert tar.getnames() == ["d", "d/a", "d/sub", "d/sub/b"]
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        info = tarfile.TarInfo("streamed/x.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    put = dockyard.run("cp", "-", "box:/srv", input=payload.getvalue())
    assert put.returncode == 0
    assert _in(dockyard, "cat", "/srv/streamed/x.txt") == "abc"
    not_dir = dockyard.run("cp", "-", "box:/srv/d/a", input=payload.getvalue(), check=False)
    assert (not_dir.returncode, not_dir.stderr) == (
        1, 'destination "box:/srv/d/a" must be a directory\n',
    )  # fmt: skip


def test_symlinks_in_the_container_never_lead_outside_it(
    dockyard: Dockyard, box: str, tmp_path: Path
) -> None:
    """/srv/up is a link to / and /srv/dots climbs with ..: both resolve in the container."""
    marker = Path("/tmp") / f"dockyard-cp-escape-{os.getpid()}"
    marker.write_text("the host's\n")
    outside = Path("/tmp") / f"dockyard-cp-pwned-{os.getpid()}"
    try:
        src = tmp_path / "payload"
        src.write_text("payload\n")
        # into the container through the links: lands in the container's /tmp
        dockyard.run("cp", str(src), f"box:/srv/up/tmp/{outside.name}")
        dockyard.run("cp", str(src), f"box:/srv/dots/tmp/{outside.name}-2")
        assert not outside.exists() and not Path(f"{outside}-2").exists()
        assert _in(dockyard, "cat", f"/tmp/{outside.name}", f"/tmp/{outside.name}-2") == (
            "payload\npayload\n"
        )
        # out of the container through the links: the host's file is not found
        out = tmp_path / "out"
        out.mkdir()
        for path in (f"/srv/up{marker}", f"/srv/dots{marker}"):
            read = dockyard.run("cp", f"box:{path}", str(out), check=False)
            assert read.returncode == 1 and "Could not find the file" in read.stderr
        assert list(out.iterdir()) == []
        # an archive that climbs out, or goes through a link it makes itself
        climbing = io.BytesIO()
        with tarfile.open(fileobj=climbing, mode="w") as tar:
            info = tarfile.TarInfo(f"../../../../..{outside}-3")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        refused = dockyard.run("cp", "-", "box:/srv", input=climbing.getvalue(), check=False)
        assert refused.returncode == 1
        assert refused.stderr == (
            "Error response from daemon: Error processing tar file(exit status 1): "
            f'"../../../../..{outside}-3" is outside of "/srv"\n'
        )
        via_link = io.BytesIO()
        with tarfile.open(fileobj=via_link, mode="w") as tar:
            link = tarfile.TarInfo("hop")
            link.type, link.linkname = tarfile.SYMTYPE, "/"
            tar.addfile(link)
            info = tarfile.TarInfo(f"hop{outside}-4")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"y"))
        dockyard.run("cp", "-", "box:/srv", input=via_link.getvalue())
        assert not Path(f"{outside}-4").exists()
        assert _in(dockyard, "cat", f"{outside}-4") == "y"
    finally:
        for path in (marker, outside, *(Path(f"{outside}-{i}") for i in (2, 3, 4))):
            path.unlink(missing_ok=True)


def test_a_stopped_container_and_read_only_places(
    dockyard: Dockyard, engine_images: EngineImages, runtime: str, tmp_path: Path
) -> None:
    dockyard.run(
        "create", "--runtime", runtime, "--name", "idle", "--read-only", "-v", "rw:/rw",
        "-v", f"{tmp_path}:/host:ro", engine_images.busybox, "true",
    )  # fmt: skip
    src = tmp_path / "f.txt"
    src.write_text("to a stopped one\n")
    mounts_before = _mounts_under(dockyard.root)
    dockyard.run("cp", str(src), "idle:/rw/")
    out = tmp_path / "back.txt"
    dockyard.run("cp", "idle:/rw/f.txt", str(out))
    assert out.read_text() == "to a stopped one\n"
    dockyard.run("cp", "idle:/etc/hostname", str(tmp_path / "hostname"))
    assert (tmp_path / "hostname").read_text().strip() == dockyard.inspect("idle")["Config"][  # type: ignore[index]
        "Hostname"
    ]
    root = dockyard.run("cp", str(src), "idle:/", check=False)
    assert (root.returncode, root.stderr) == (
        1, "Error response from daemon: container rootfs is marked read-only\n",
    )  # fmt: skip
    ro = dockyard.run("cp", str(src), "idle:/host/", check=False)
    assert (ro.returncode, ro.stderr) == (
        1, "Error response from daemon: mounted volume is marked read-only\n",
    )  # fmt: skip
    # the copies mounted what they needed in a namespace of their own: nothing is left
    assert _mounts_under(dockyard.root) == mounts_before


def test_the_python_api_gets_and_puts_archives(dockyard: Dockyard, box: str) -> None:
    client = dockyard_client(dockyard)
    try:
        container = client.containers.get("box")
        chunks, stat = container.get_archive("/srv/d")
        data = b"".join(chunks)
        assert stat["name"] == "d" and stat["mode"] & (1 << 31) and stat["linkTarget"] == ""
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            assert tar.extractfile("d/sub/b").read() == b"deep\n"  # type: ignore[union-attr]
        _, link = container.get_archive("/srv/link")
        assert link["linkTarget"] == "/srv/d/a" and link["mode"] & (1 << 27)
        payload = io.BytesIO()
        with tarfile.open(fileobj=payload, mode="w") as tar:
            info = tarfile.TarInfo("api.txt")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"api\n"))
        assert container.put_archive("/srv", payload.getvalue()) is True
        assert _in(dockyard, "cat", "/srv/api.txt") == "api\n"
        from dockyard.client.errors import NotFound

        with pytest.raises(NotFound):
            container.get_archive("/nope")
        events = dockyard.run(
            "events", "--since", "5m", "--until", "0s", "-f", "container=box",
            "--format", "{{.Action}}",
        ).stdout.split()  # fmt: skip
        assert "archive-path" in events and "extract-to-dir" in events
    finally:
        client.close()
