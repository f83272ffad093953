"""linux/fspath.py gives what os.path and os.makedirs give, for the runtime's uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.linux import fspath


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "dir" / "sub").mkdir(parents=True)
    (tmp_path / "dir" / "file").write_text("x")
    (tmp_path / "link-to-dir").symlink_to("dir")
    (tmp_path / "dir" / "up").symlink_to("..")
    (tmp_path / "dangling").symlink_to("nowhere")
    return tmp_path


def test_predicates_match_os_path(tree: Path) -> None:
    names = ["dir", "dir/sub", "dir/file", "link-to-dir", "dangling", "missing", "dir/file/x"]
    for name in names:
        path = str(tree / name)
        assert fspath.exists(path) == os.path.exists(path), name
        assert fspath.lexists(path) == os.path.lexists(path), name
        assert fspath.isdir(path) == os.path.isdir(path), name
        assert fspath.isfile(path) == os.path.isfile(path), name
    assert not fspath.exists("bad\0path")


@pytest.mark.parametrize(
    "path",
    ["/", "//", "/a", "/a/", "/a/b", "/a/b/", "a", "a/b", "", "/a//b", "///a///b//", "a/"],
)
def test_dirname_matches_os_path(path: str) -> None:
    assert fspath.dirname(path) == os.path.dirname(path)


@pytest.mark.parametrize(
    ("path", "start"),
    [("/a/b/c", "/a"), ("/a", "/a"), ("/a", "/a/b/c"), ("/x/y", "/a/b"), ("/", "/a"), ("/a", "/")],
)
def test_relpath_matches_os_path(path: str, start: str) -> None:
    assert fspath.relpath(path, start) == os.path.relpath(path, start)


def test_realpath_resolves_symlinks_and_dots(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = str(tree.resolve())
    assert fspath.realpath(str(tree / "link-to-dir" / "up" / "dir" / "sub")) == f"{real}/dir/sub"
    assert fspath.realpath(str(tree / "dir" / ".." / "dir" / "file")) == f"{real}/dir/file"
    monkeypatch.chdir(tree / "link-to-dir")
    assert fspath.realpath(".") == f"{real}/dir"
    assert fspath.realpath("sub") == f"{real}/dir/sub"


def test_realpath_of_a_missing_path_raises(tree: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fspath.realpath(str(tree / "missing"))
    with pytest.raises(FileNotFoundError):
        fspath.realpath(str(tree / "dangling"))


def test_makedirs_makes_what_is_missing(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c"
    old = os.umask(0)
    try:
        fspath.makedirs(str(target), 0o711)
        fspath.makedirs(str(target), 0o711)  # exists: fine
    finally:
        os.umask(old)
    assert target.is_dir()
    assert target.stat().st_mode & 0o777 == 0o711
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o777  # os.makedirs leaves parents alone too
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        fspath.makedirs(str(tmp_path / "file"))
    with pytest.raises(OSError):
        fspath.makedirs(str(tmp_path / "file" / "below"))
