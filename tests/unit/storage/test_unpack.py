from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.storage.compression import decompressed
from dockyard.storage.layers import chain_ids
from dockyard.storage.unpack import HostileLayer, apply_layer, clean_name, whiteout_target

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, trusted xattrs)")


def test_names() -> None:
    assert clean_name("./a//b/./c") == "a/b/c"
    assert clean_name("./") == ""
    for bad in ("/etc/passwd", "a/../../b", "../x"):
        with pytest.raises(HostileLayer):
            clean_name(bad)


def test_whiteout_names() -> None:
    assert whiteout_target("a/b/.wh.c") == ("a/b", "c")
    assert whiteout_target(".wh.top") == ("", "top")
    assert whiteout_target("d/.wh..wh..opq") == ("d", ".wh..wh..opq")
    assert whiteout_target("d/.wh..wh.plnk") == ("d", ".wh..wh.")
    assert whiteout_target("d/file") is None
    with pytest.raises(HostileLayer):
        whiteout_target("d/.wh...")


def test_chain_ids() -> None:
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    chains = chain_ids([a, b])
    assert chains[0] == a
    import hashlib

    assert chains[1] == "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()


def _tar(*entries: tuple[str, bytes | None]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


@root_only
def test_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    stats = apply_layer(
        _tar(
            ("d", None),
            ("d/.wh.gone", b""),
            ("d/.wh..wh..opq", b""),
            ("d/kept", b"k"),
            (".wh.top", b""),
        ),
        str(tmp_path),
    )
    gone = (tmp_path / "d/gone").lstat()
    assert gone.st_rdev == 0 and (gone.st_mode & 0o170000) == 0o020000
    assert os.getxattr(tmp_path / "d", "trusted.overlay.opaque") == b"y"
    assert (tmp_path / "top").lstat().st_rdev == 0
    assert (tmp_path / "d/kept").read_bytes() == b"k"
    assert len(stats.whiteouts) == 3


@root_only
def test_later_entries_replace_earlier_ones(tmp_path: Path) -> None:
    apply_layer(
        _tar(("x", None), ("x/inner", b"1"), ("x", b"now a file"), ("y", b"1"), ("y", b"2")),
        str(tmp_path),
    )
    assert (tmp_path / "x").read_bytes() == b"now a file"
    assert (tmp_path / "y").read_bytes() == b"2"


def test_gzip_and_zstd_are_detected() -> None:
    import gzip

    zstandard = pytest.importorskip("zstandard")

    data = b"hello" * 1000
    for blob, kind in (
        (gzip.compress(data), "gzip"),
        (zstandard.ZstdCompressor().compress(data), "zstd"),
        (data, ""),
    ):
        reader, found = decompressed(io.BytesIO(blob))
        assert found == kind
        out = b""
        while chunk := reader.read(100):
            out += chunk
        assert out == data


@pytest.mark.parametrize("kind", ["gzip", "gzip-truncated", "zstd"])
def test_a_corrupt_stream_is_a_clear_error(kind: str) -> None:
    import gzip

    from dockyard.storage.compression import CorruptStream

    data = os.urandom(100_000)
    if kind == "zstd":
        zstandard = pytest.importorskip("zstandard")
        blob = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(data))
        blob[20:40] = b"\xff" * 20
    else:
        blob = bytearray(gzip.compress(data))
        if kind == "gzip":
            blob[-8] ^= 0xFF  # the CRC
        else:
            del blob[50_000:]
    reader, _ = decompressed(io.BytesIO(bytes(blob)))

    with pytest.raises(CorruptStream, match=f"not valid {kind[:4]}|ends early"):
        while reader.read(1 << 16):
            pass


def test_the_expansion_limit_comes_from_the_environment() -> None:
    from dockyard.storage.unpack import RATIO_VARIABLE, Limits

    assert Limits.from_env({}).unpacked_limit(1 << 20) == 100 << 20
    assert Limits.from_env({}).unpacked_limit(10) == 64 << 20  # the floor
    assert Limits.from_env({RATIO_VARIABLE: "2000"}).unpacked_limit(1 << 20) == 2000 << 20
    assert Limits.from_env({RATIO_VARIABLE: "0"}).unpacked_limit(1 << 20) is None
    for bad in ("many", "-1", "nan", "inf"):
        with pytest.raises(InvalidArgument, match=RATIO_VARIABLE):
            Limits.from_env({RATIO_VARIABLE: bad})


def test_a_malformed_sparse_map_is_a_clear_error(tmp_path: Path) -> None:
    """tarfile itself raises ValueError on it: that is bad input too, not a crash."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hole")
        info.size = 4
        info.pax_headers = {  # GNU tar's PAX sparse 1.0, with a map that ends early
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.name": "hole",
            "GNU.sparse.realsize": str(1 << 30),
        }
        tar.addfile(info, io.BytesIO(b"1\n0\n"))
    buf.seek(0)
    with pytest.raises(InvalidArgument, match="not a valid tar archive"):
        apply_layer(buf, str(tmp_path), same_owner=False)
    assert os.listdir(tmp_path) == []
