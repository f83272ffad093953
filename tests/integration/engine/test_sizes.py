"""Sizes as Docker counts them (its daemon's directory walk): a file's bytes, a symlink's
target's length, a hard link once; in `image inspect`, `system df`, `ps -s`, `inspect -s`."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from tests.integration.engine.conftest import Dockyard, EngineImages


def _layer(path: Path) -> None:
    with tarfile.open(path, "w") as tar:
        data = b"x" * 100
        info = tarfile.TarInfo("file")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "target-of-15ch"
        tar.addfile(link)
        hard = tarfile.TarInfo("hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "file"
        tar.addfile(hard)


def test_symlinks_count_as_docker_counts_them(
    dockyard: Dockyard, engine_images: EngineImages, tmp_path: Path
) -> None:
    layer = tmp_path / "layer.tar"
    _layer(layer)
    dockyard.run("import", str(layer), "sized:1")
    # Docker: 100 (the file, its hard link once) + 14 (the symlink's target)
    assert dockyard.run("image", "inspect", "-f", "{{.Size}}", "sized:1").stdout == "114\n"

    dockyard.run("pull", engine_images.busybox)
    dockyard.run("run", "--name", "linker", engine_images.busybox, "ln", "-s", "/some/where", "/l")
    shown = dockyard.run("inspect", "-s", "-f", "{{.SizeRw}}", "linker").stdout
    assert shown == f"{len('/some/where')}\n"
