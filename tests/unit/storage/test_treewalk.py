"""The walker never leaves its tree, even when the tree changes under it."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from dockyard.storage.differ import _Exactly, write_tree
from dockyard.storage.treewalk import walk


def make_tree(root: Path) -> None:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/file").write_text("inside\n")
    (root / "a/c").write_text("c\n")
    (root / "link").symlink_to("/")


def test_symlinks_are_entries_never_doors(tmp_path: Path) -> None:
    make_tree(tmp_path)
    paths = [e.path for e in walk(tmp_path)]
    assert paths == ["a", "a/b", "a/b/file", "a/c", "link"]


def test_a_directory_swapped_for_a_symlink_mid_walk_is_not_followed(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host\n")
    seen = []
    for entry in walk(tree):
        seen.append(entry.path)
        if entry.path == "a":  # listed, not yet entered: a container swaps a/b
            os.rename(tree / "a/b", tree / "a/moved")
            (tree / "a/b").symlink_to(outside)
    assert "a/b/secret" not in seen and "a/b" in seen
    assert not [p for p in seen if "secret" in p]


def test_a_file_that_vanishes_is_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path)
    entries = walk(tmp_path)
    first = next(entries)  # "a": its children are listed when we go on
    assert first.path == "a"
    os.unlink(tmp_path / "a/c")
    assert "a/c" not in [e.path for e in entries]


def test_a_file_that_shrinks_or_grows_keeps_the_size_its_header_gave(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.truncate(path, 10)  # a container cuts it after we read its size
        assert _Exactly(fd, 100).read(1000) == b"x" * 10 + bytes(90)
        os.lseek(fd, 0, os.SEEK_SET)
        path.write_bytes(b"y" * 500)  # or makes it longer
        reader = _Exactly(fd, 100)
        assert reader.read(64) + reader.read(64) + reader.read(64) == b"y" * 100
    finally:
        os.close(fd)


def test_write_tree_keeps_what_the_tree_holds(tmp_path: Path) -> None:
    make_tree(tmp_path / "t")
    out = io.BytesIO()
    write_tree(tmp_path / "t", out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert tar.getnames() == ["a", "a/b", "a/b/file", "a/c", "link"]
        assert tar.getmember("link").linkname == "/"
