"""An image archive read from a stream into a directory: members checked as they come."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.image.spool import BadArchive, spool_archive


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is None:
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_files_and_links_between_members(tmp_path: Path) -> None:
    data = archive(
        (entry("abc/layer.tar"), b"layer"),
        (entry("def/layer.tar", tarfile.SYMTYPE, "../abc/layer.tar"), None),
        (entry("ghi/layer.tar", tarfile.LNKTYPE, "def/layer.tar"), None),
        (entry("later", tarfile.SYMTYPE, "/manifest.json"), None),  # before its target
        (entry("manifest.json"), b"[]"),
        (entry("dangling", tarfile.SYMTYPE, "nowhere"), None),
    )
    count = spool_archive(io.BytesIO(gzip.compress(data)), tmp_path, "test")

    assert count == 6
    assert (tmp_path / "def/layer.tar").read_bytes() == b"layer"
    assert (tmp_path / "ghi/layer.tar").read_bytes() == b"layer"
    assert (tmp_path / "later").read_bytes() == b"[]"
    assert not (tmp_path / "def/layer.tar").is_symlink()
    assert not os.path.lexists(tmp_path / "dangling")


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ([(entry("../evil"), b"x")], "outside the archive"),
        ([(entry("/etc/evil"), b"x")], "outside the archive"),
        ([(entry("null", tarfile.CHRTYPE), None)], "device or FIFO"),
        ([(entry("f"), b"x"), (entry("f/g"), b"y")], "both a file and a directory"),
    ],
)
def test_what_an_image_archive_does_not_hold_is_refused(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], problem: str
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BadArchive, match=problem):
        spool_archive(io.BytesIO(archive(*members)), dest, "test")
    assert not (tmp_path / "evil").exists()


def test_a_cut_archive_fails_at_the_cut(tmp_path: Path) -> None:
    data = archive((entry("a"), b"a" * 10000), (entry("b"), b"b" * 10000))
    with pytest.raises(BadArchive, match="cut short"):
        spool_archive(io.BytesIO(data[:6000]), tmp_path, "stdin")
