"""LayerStream (the forward-only file tarfile reads layers from) and the unpack through it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.storage.tarstream import HostileLayer, LayerStream
from dockyard.storage.unpack import apply_layer


class Trickle:
    """A source that returns at most ``step`` bytes a read, as a network stream may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data = io.BytesIO(data)
        self.step = step

    def read(self, amount: int = -1) -> bytes:
        return self.data.read(min(amount, self.step) if amount >= 0 else self.step)


def test_reads_seeks_and_copies_across_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    stream = LayerStream(Trickle(data, 1000), chunk_size=700)

    assert stream.read(10) == data[:10]
    assert stream.read(1500) == data[10:1510]
    stream.seek(2000)
    assert stream.tell() == 2000
    stream.seek(1999)  # one byte back, inside the current chunk: tarfile does this
    assert stream.read(1) == data[1999:2000]
    with open(tmp_path / "out", "wb") as f:
        stream.copy_to(f.fileno(), 5000, "entry")
    assert (tmp_path / "out").read_bytes() == data[2000:7000]
    assert stream.read(100_000) == data[7000:]
    assert stream.read(10) == b""


def test_refuses_to_go_back_or_read_absurd_headers(tmp_path: Path) -> None:
    stream = LayerStream(Trickle(b"x" * 5000, 5000), chunk_size=1000, max_read=2000)
    stream.seek(3500)

    with pytest.raises(HostileLayer, match="points back"):
        stream.seek(100)
    with pytest.raises(HostileLayer, match="more than allowed"):
        stream.read(2001)
    with open(tmp_path / "out", "wb") as f, pytest.raises(HostileLayer, match="ends inside"):
        stream.copy_to(f.fileno(), 2000, "big")


def test_seeking_past_the_end_reads_nothing() -> None:
    stream = LayerStream(Trickle(b"abc", 3))

    stream.seek(10)

    assert stream.read(1) == b""


def _layer(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_many_small_files_and_long_names_through_a_trickling_source(tmp_path: Path) -> None:
    long_dir = "d" * 120
    entries = []
    for i in range(300):
        info = tarfile.TarInfo(f"{long_dir}/{'n' * 150}{i}")
        info.mode = 0o640
        info.pax_headers = {"SCHILY.xattr.user.i": str(i)}
        entries.append((info, os.urandom(i * 37)))

    stats = apply_layer(Trickle(_layer(entries), 777), str(tmp_path), same_owner=False)

    assert stats.entries == 300
    for info, data in entries:
        path = tmp_path / info.name
        assert path.read_bytes() == data
        assert path.stat().st_mode & 0o777 == 0o640


def test_a_negative_size_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("f")
    block = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    block[124:136] = b"\xff" * 12  # base-256: -1
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\0".encode()

    with pytest.raises(InvalidArgument, match="negative size"):
        apply_layer(io.BytesIO(bytes(block) + b"\0" * 1024), str(tmp_path), same_owner=False)


@pytest.mark.skipif(not shutil.which("tar"), reason="needs GNU tar to write sparse files")
@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_sparse_files_are_refused(tmp_path: Path, fmt: str) -> None:
    """Written out, holes are zeros: a few KB of layer would fill the disk."""
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "sparse", "wb") as f:
        f.seek(1 << 30)
        f.write(b"end")
    archive = subprocess.run(
        ["tar", "--sparse", f"--format={fmt}", "-C", str(src), "-cf", "-", "sparse"],
        check=True,
        capture_output=True,
    ).stdout
    dest = tmp_path / "dest"
    dest.mkdir()

    with pytest.raises(InvalidArgument, match="'sparse': a sparse file of 1073741827 bytes"):
        apply_layer(io.BytesIO(archive), str(dest), same_owner=False)
    assert os.listdir(dest) == []
