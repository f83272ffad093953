"""The differ leaves out what a runtime made to mount over (Docker's init layer)."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from dockyard.storage.differ import changes, runtime_stubs, write_layer

INIT = ("dev", "etc", "etc/hosts", "etc/hostname", "proc", "sys")


def _tree(root: Path, files: dict[str, bytes | None]) -> Path:
    for path, data in files.items():
        target = root / path
        if data is None:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return root


def test_new_empty_mount_points_are_stubs_and_nothing_else_is(tmp_path: Path) -> None:
    image = _tree(tmp_path / "layer", {"etc/hostname": b"img\n", "bin/sh": b"#!"})
    upper = _tree(
        tmp_path / "upper",
        {
            "etc/hosts": b"",  # new and empty: the runtime's
            "etc/hostname": b"",  # the image has one: a real change
            "proc": None,  # new, empty directory
            "dev/pts": None,  # not a candidate itself, so dev is not a stub either
            "sys/x": b"data",  # a file in it: not a stub
        },
    )

    assert runtime_stubs(upper, [image], INIT) == {"etc/hosts", "proc"}


def test_changes_and_the_layer_leave_the_stubs_out(tmp_path: Path) -> None:
    image = _tree(tmp_path / "layer", {"etc/passwd": b"root\n", "tmp": None})
    upper = _tree(tmp_path / "upper", {"etc/hosts": b"", "proc": None, "tmp/x": b"1"})
    # a directory copied up because a stub was made in it has a new time only
    os.utime(upper / "etc", ns=(1, 1))

    found = [str(c) for c in changes(upper, [image], INIT)]
    out = io.BytesIO()
    count = write_layer(upper, out, runtime_stubs(upper, [image], INIT))

    assert found == ["C /tmp", "A /tmp/x"]
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        names = tar.getnames()
    assert "etc/hosts" not in names and "proc" not in names
    assert "tmp/x" in names and count == len(names)
    # without the list, everything is there (what the differ did before)
    assert {"A /etc/hosts", "A /proc"} <= {str(c) for c in changes(upper, [image])}
