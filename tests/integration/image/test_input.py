"""Disk and bad input: layers that try to fill the disk, full disks, odd archives, odd outputs."""

from __future__ import annotations

import io
import os
import signal
import stat
import struct
import subprocess
import tarfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.image.builder import (
    Image,
    dir_entry,
    file_entry,
    make_layer,
    tar_entries,
    write_layout,
)
from tests.integration.image.conftest import (
    DOCKYARD,
    Dockyard,
    Registry,
    Result,
    SampleImages,
)

pytestmark = pytest.mark.integration

CAP_NET_RAW = 13
# struct vfs_cap_data, revision 2: magic with the effective flag, then two (permitted,
# inheritable) pairs of 32-bit masks: cap_net_raw=ep, what `setcap cap_net_raw=ep` writes
NET_RAW_EP = struct.pack("<IIIII", 0x02000000 | 1, 1 << CAP_NET_RAW, 0, 0, 0)


def test_file_capabilities_survive_a_pull(
    dockyard: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    ping, data = file_entry("bin/ping", b"#!/bin/sh\n", 0o755)
    # written as the raw bytes: tarfile marks the record hdrcharset=BINARY
    ping.pax_headers = {
        "SCHILY.xattr.security.capability": NET_RAW_EP.decode("utf-8", "surrogateescape")
    }
    owned, owned_data = file_entry("bin/tool", b"tool\n", 0o4755)
    owned.uid = owned.gid = 1000
    owned.pax_headers = dict(ping.pax_headers)
    layer = make_layer(tar_entries([dir_entry("bin"), (ping, data), (owned, owned_data)]))
    name = f"{registry.host}/test/caps:1"
    write_layout(tmp_path / "layout", {"docker.io/library/caps:1": [Image([layer])]})
    dockyard.run("load", "-i", str(tmp_path / "layout"))
    dockyard.run("tag", "caps:1", name)
    dockyard.run("push", name)
    dockyard.run("rmi", name, "caps:1")

    dockyard.run("pull", name)

    (chain,) = (dockyard.root / "layers").iterdir()
    for path, uid, mode in (("bin/ping", 0, 0o755), ("bin/tool", 1000, 0o4755)):
        target = chain / "diff" / path
        assert os.getxattr(target, "security.capability") == NET_RAW_EP, path
        st = target.stat()
        assert (st.st_uid, st.st_mode & 0o7777) == (uid, mode), path
        shown = subprocess.run(["getcap", str(target)], capture_output=True, text=True).stdout
        assert "cap_net_raw=ep" in shown, shown


# ---------------------------------------------------------------- layers that fill the disk


@contextmanager
def store_on_tmpfs(dockyard: Dockyard, size: str) -> Iterator[Dockyard]:
    dockyard.root.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(dockyard.root)], check=True
    )
    try:
        yield dockyard
    finally:
        subprocess.run(["umount", "-l", str(dockyard.root)], check=True)


@pytest.fixture
def small_store(dockyard: Dockyard) -> Iterator[Dockyard]:
    """The store on a 128 MiB tmpfs: what should be refused fails fast, never fills the host."""
    with store_on_tmpfs(dockyard, "128m") as store:
        yield store


@pytest.fixture
def tiny_store(dockyard: Dockyard) -> Iterator[Dockyard]:
    """The store on a 32 MiB tmpfs, for the tests that fill it: each megabyte
    they must write to fill it is made random, gzipped, stored and sent first."""
    with store_on_tmpfs(dockyard, "32m") as store:
        yield store


def load_layer(dockyard: Dockyard, tmp_path: Path, tar: bytes, **env: str) -> Result:
    """``dockyard load`` of a one-layer image holding ``tar`` (gzipped)."""
    layout = write_layout(
        tmp_path / "layout", {"docker.io/library/odd:1": [Image([make_layer(tar)])]}
    )
    saved = dict(dockyard.env)
    dockyard.env.update(env)
    try:
        return dockyard.run("load", "-i", str(layout), check=False)
    finally:
        dockyard.env = saved


def nothing_stored(dockyard: Dockyard) -> None:
    root = dockyard.root
    assert os.listdir(root / "tmp") == [], os.listdir(root / "tmp")
    assert os.listdir(root / "layers") == []
    assert os.listdir(root / "images") == []


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_a_sparse_file_is_refused_without_writing_it(
    small_store: Dockyard, tmp_path: Path, fmt: str
) -> None:
    work = tmp_path / "sparse"
    work.mkdir()
    with open(work / "hole", "wb") as f:
        f.truncate(10 << 30)  # 10 GiB, all hole
        f.seek(5 << 30)
        f.write(b"data in the middle")
    tar = subprocess.run(
        ["tar", "--sparse", f"--format={fmt}", "-C", str(work), "-cf", "-", "hole"],
        check=True,
        capture_output=True,
    ).stdout
    assert len(tar) < 64 << 10

    result = load_layer(small_store, tmp_path, tar)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "'hole'" in result.stderr and "sparse" in result.stderr, result.stderr
    nothing_stored(small_store)


def gzip_bomb(size: int) -> bytes:
    """A gzipped tar of one file of ``size`` zero bytes, made without holding it."""
    header = tarfile.TarInfo("bomb")
    header.size = size
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [packer.compress(header.tobuf(format=tarfile.PAX_FORMAT))]
    zeros = bytes(1 << 20)
    for _ in range(size >> 20):
        out.append(packer.compress(zeros))
    out.append(packer.compress(bytes(1024)))  # the end-of-archive blocks
    out.append(packer.flush())
    return b"".join(out)


def test_a_gzip_bomb_is_refused_and_the_limit_can_be_raised(
    small_store: Dockyard, tmp_path: Path
) -> None:
    bomb = gzip_bomb(512 << 20)  # about 500 KiB of gzip, 512 MiB unpacked
    assert len(bomb) < 1 << 20
    layer = tmp_path / "bomb.tar.gz"
    layer.write_bytes(bomb)

    refused = small_store.run("import", str(layer), "bomb:1", check=False)

    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "DOCKYARD_MAX_LAYER_RATIO" in refused.stderr, refused.stderr
    nothing_stored(small_store)
    # The limit is the user's to change: at 2000x the bomb fits the ratio, and
    # the 128 MiB store then stops it with one line of its own.
    small_store.env["DOCKYARD_MAX_LAYER_RATIO"] = "2000"
    full = small_store.run("import", str(layer), "bomb:1", check=False)
    assert full.returncode == 1 and "DOCKYARD_MAX_LAYER_RATIO" not in full.stderr
    assert "no space left on device" in full.stderr.lower(), full.stderr
    assert full.stderr.count("\n") == 1
    nothing_stored(small_store)


def test_a_highly_compressible_layer_within_the_limit_loads(
    dockyard: Dockyard, tmp_path: Path
) -> None:
    """The floor: a small layer may unpack well past the ratio (tar's padding alone does)."""
    tar = tar_entries([file_entry("zeros", bytes(8 << 20))])
    assert len(make_layer(tar).blob) * 100 < len(tar)
    result = load_layer(dockyard, tmp_path, tar)
    assert result.returncode == 0, result.stderr


def big_image(tmp_path: Path, count: int, size: int) -> Dockyard:
    """A store of its own holding big:1, ``count`` layers of ``size`` random bytes."""
    layers = [
        make_layer(tar_entries([file_entry(f"data{i}", os.urandom(size))])) for i in range(count)
    ]
    source = Dockyard(tmp_path / "source", tmp_path / "source-config")
    write_layout(tmp_path / "layout", {"docker.io/library/big:1": [Image(layers)]})
    source.run("load", "-i", str(tmp_path / "layout"))
    return source


def test_a_full_disk_mid_pull_is_one_line_and_leaves_nothing_half_written(
    tiny_store: Dockyard, registry: Registry, tmp_path: Path
) -> None:
    # four layers of 10 MiB that do not compress, each stored twice (blob and
    # files): the 32 MiB store fills up mid-pull, in the forked workers that unpack them
    source = big_image(tmp_path, 4, 10 << 20)
    name = f"{registry.host}/test/big:1"
    source.run("tag", "big:1", name)
    source.run("push", name)

    result = tiny_store.run("pull", name, check=False)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "Error" in line or "Trace" in line]
    assert len(errors) == 1 and "no space left on device" in errors[0], result.stderr
    root = tiny_store.root
    assert os.listdir(root / "tmp") == []
    for layer in (root / "layers").iterdir():  # whatever was stored is whole
        assert (layer / "layer.json").is_file()
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    check = tiny_store.run("system", "check")
    assert "consistent" in check.stdout, check.stdout


# ---------------------------------------------------------------- odd archives for load


@pytest.fixture
def archive(dockyard: Dockyard, test_images: SampleImages, tmp_path: Path) -> bytes:
    """bb-multi as `docker save` writes it, from a store of its own."""
    source = Dockyard(tmp_path / "source", tmp_path / "source-config")
    source.run("load", "-i", str(test_images.layout))
    source.run("save", "-o", str(tmp_path / "saved.tar"), "bb-multi")
    return (tmp_path / "saved.tar").read_bytes()


def one_error_line(result: Result, *words: str) -> None:
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def load_from_pipe(dockyard: Dockyard, data: bytes, *args: str) -> Result:
    """``load`` with stdin a pipe fed by another process, as ``cat x | dockyard load``."""
    feeder = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert feeder.stdin is not None
    try:
        proc = subprocess.Popen(
            [str(DOCKYARD), "load", *args],
            stdin=feeder.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dockyard.env,
        )
        assert feeder.stdout is not None
        feeder.stdout.close()
        try:
            feeder.stdin.write(data)
        except BrokenPipeError:
            pass  # load stopped reading at the bad header: that is the point
        feeder.stdin.close()
        out, err = proc.communicate(timeout=60)
    finally:
        feeder.kill()
        feeder.wait()
    return Result(proc.returncode, out.decode(), err.decode())


@pytest.mark.parametrize("how", ["pipe", "file on stdin", "-i file"])
@pytest.mark.parametrize("what", ["random bytes", "cut in a header", "cut in a layer", "empty"])
def test_load_of_a_bad_archive_is_one_error_line_and_leaves_nothing(
    dockyard: Dockyard, archive: bytes, tmp_path: Path, how: str, what: str
) -> None:
    data = {
        "random bytes": os.urandom(1 << 20),
        "cut in a header": archive[: 1536 + 100],
        "cut in a layer": archive[: len(archive) // 2],
        "empty": b"",
    }[what]
    bad = tmp_path / "bad.tar"
    bad.write_bytes(data)
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    dockyard.env["TMPDIR"] = str(scratch)

    if how == "pipe":
        result = load_from_pipe(dockyard, data)
    elif how == "file on stdin":
        with open(bad, "rb") as f:
            proc = subprocess.run(
                [str(DOCKYARD), "load"], stdin=f, capture_output=True, env=dockyard.env, timeout=60
            )
        result = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    else:
        result = dockyard.run("load", "-i", str(bad), check=False)

    one_error_line(result)
    assert os.listdir(scratch) == []
    nothing_stored(dockyard)


def test_a_piped_archive_loads_and_random_bytes_stop_at_the_first_block(
    dockyard: Dockyard, archive: bytes
) -> None:
    good = load_from_pipe(dockyard, archive)
    assert good.returncode == 0 and "Loaded image: bb-multi:latest" in good.stdout, good

    # 64 MiB of noise: refused at the first header, long before it is all written
    noise = os.urandom(1 << 20) * 64
    bad = load_from_pipe(dockyard, noise)
    one_error_line(bad, "stdin: not a valid image archive")
    assert os.listdir(dockyard.root / "tmp") == []


def test_sigterm_during_a_piped_load_leaves_nothing(
    dockyard: Dockyard, archive: bytes, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    dockyard.env["TMPDIR"] = str(scratch)
    proc = subprocess.Popen(
        [str(DOCKYARD), "load"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dockyard.env,
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(archive[: len(archive) // 2])  # then the writer stalls
        proc.stdin.flush()
        spooled = dockyard.root / "tmp"
        deadline = time.monotonic() + 30
        while not any(spooled.rglob("blobs")):  # the spool has begun
            assert time.monotonic() < deadline, "load never started spooling"
            time.sleep(0.02)

        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.communicate()

    assert status == 128 + signal.SIGTERM
    assert os.listdir(dockyard.root / "tmp") == []
    assert os.listdir(scratch) == []
    nothing_stored(dockyard)


# ---------------------------------------------------------------- where -o writes


def no_temp_files(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


@contextmanager
def exported_container(dockyard: Dockyard, run_root: Path, image: str) -> Iterator[str]:
    """A container of ``image`` to ``export`` (Docker's export takes a container)."""
    dockyard.env["DOCKYARD_RUN_ROOT"] = str(run_root)
    dockyard.run("create", "--name", "exported", image, "true")
    try:
        yield "exported"
    finally:
        dockyard.run("rm", "-f", "exported")


@pytest.fixture
def subject(loaded: Dockyard, tmp_path: Path, verb: str) -> Iterator[str]:
    """What ``verb`` writes out: the image for ``save``, a container of it for ``export``."""
    if verb == "save":
        yield "bb-multi"
        return
    with exported_container(loaded, tmp_path / "run", "bb-multi") as container:
        yield container


@pytest.mark.parametrize("verb", ["save", "export"])
def test_output_into_a_fifo_writes_into_it(
    loaded: Dockyard, tmp_path: Path, verb: str, subject: str
) -> None:
    fifo = tmp_path / "out" / "fifo"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with open(tmp_path / "read", "wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
    try:
        result = loaded.run(verb, "-o", str(fifo), subject, check=False, timeout=60)
        reader.wait(timeout=60)
    finally:
        reader.kill()
        reader.wait()
    data = (tmp_path / "read").read_bytes()

    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert ("manifest.json" if verb == "save" else "etc/motd") in names
    no_temp_files(fifo.parent)


@pytest.mark.parametrize("verb", ["save", "export"])
def test_output_onto_a_device_node_is_refused_and_keeps_it(
    loaded: Dockyard, tmp_path: Path, verb: str, subject: str
) -> None:
    null = tmp_path / "dev" / "null"
    null.parent.mkdir()
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
    link = tmp_path / "dev" / "link-to-null"
    link.symlink_to(null)

    for target in (null, link):
        result = loaded.run(verb, "-o", str(target), subject, check=False)
        one_error_line(result, "is a device")

    st = null.lstat()
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert link.is_symlink()
    no_temp_files(null.parent)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a read-only tmpfs: even root cannot write there."""
    path = tmp_path / "ro"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@pytest.mark.parametrize("verb", ["save", "export"])
def test_bad_output_paths_are_one_line_and_leave_no_temp_file(
    loaded: Dockyard, tmp_path: Path, read_only_dir: Path, verb: str, subject: str
) -> None:
    directory = tmp_path / "a-dir"
    directory.mkdir()
    cases = {
        str(directory): "is a directory",
        str(tmp_path / "missing" / "out.tar"): "does not exist",
        str(read_only_dir / "out.tar"): "Read-only file system",
    }
    for path, problem in cases.items():
        result = loaded.run(verb, "-o", path, subject, check=False)
        one_error_line(result, problem)
    assert os.listdir(directory) == [] and os.listdir(read_only_dir) == []
    no_temp_files(tmp_path)

    # and the good case: an existing file is replaced whole
    out = tmp_path / "out.tar"
    out.write_bytes(b"old")
    loaded.run(verb, "-o", str(out), subject)
    with tarfile.open(out) as tar:
        assert tar.getnames()
    no_temp_files(tmp_path)


@pytest.mark.parametrize("verb", ["save", "export"])
def test_a_full_disk_while_saving_is_one_line_and_keeps_the_old_file(
    loaded: Dockyard, tmp_path: Path, verb: str, subject: str
) -> None:
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True)
    try:
        (small / "image.tar").write_bytes(b"the old archive")
        result = loaded.run(verb, "-o", str(small / "image.tar"), subject, check=False)
        one_error_line(result, "no space left on device")
        assert (small / "image.tar").read_bytes() == b"the old archive"
        assert os.listdir(small) == ["image.tar"]
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_piped_load_onto_a_full_disk_is_one_line_and_leaves_nothing(
    tiny_store: Dockyard, tmp_path: Path
) -> None:
    source = big_image(tmp_path, 3, 12 << 20)  # 36 MiB of blobs alone for a 32 MiB store
    source.run("save", "-o", str(tmp_path / "big.tar"), "big:1")

    result = load_from_pipe(tiny_store, (tmp_path / "big.tar").read_bytes())

    one_error_line(result, "no space left on device")
    nothing_stored(tiny_store)
