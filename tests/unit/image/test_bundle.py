"""Bundle: members of a tar read by many threads at once come out whole."""

from __future__ import annotations

import io
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dockyard.image.layout import Bundle

FILES = {f"blobs/sha256/{i:064x}": os.urandom(300_000 + i * 7919) for i in range(8)}


def _write(path: Path, mode: str) -> None:
    with tarfile.open(path, mode) as tar:
        for name, data in FILES.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_parallel_reads_of_tar_members(tmp_path: Path, mode: str) -> None:
    archive = tmp_path / "bundle.tar"
    _write(archive, mode)
    bundle = Bundle(archive)

    def read(name: str) -> bytes:
        out = b""
        with bundle.open(name) as f:
            while chunk := f.read(4096):
                out += chunk
        return out

    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(read, [*FILES] * 4))
    finally:
        bundle.close()

    assert results == [*FILES.values()] * 4
