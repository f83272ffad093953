"""Paths resolved inside a root never leave it, whatever symlinks the root holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.linux import inroot


@pytest.fixture
def root(tmp_path: Path) -> tuple[Path, Path, int]:
    """(root dir, a host dir outside it, an O_PATH fd of the root)."""
    rootdir = tmp_path / "root"
    host = tmp_path / "host"
    rootdir.mkdir()
    host.mkdir()
    (rootdir / "etc").mkdir()
    os.symlink(str(host), rootdir / "abs")  # absolute link to the host dir
    os.symlink("../../host", rootdir / "etc" / "up")  # relative link climbing out
    fd = os.open(rootdir, os.O_PATH | os.O_DIRECTORY)
    yield rootdir, host, fd
    os.close(fd)


def real(fd: int) -> str:
    return os.readlink(inroot.fd_path(fd))


def test_absolute_symlink_stays_inside(root: tuple[Path, Path, int]) -> None:
    rootdir, host, fd = root
    made = inroot.mkdir_all(fd, "/abs/newdir")
    try:
        assert real(made).startswith(str(rootdir) + "/")
    finally:
        os.close(made)
    assert list(host.iterdir()) == []


def test_dotdot_and_relative_links_are_clamped(root: tuple[Path, Path, int]) -> None:
    rootdir, host, fd = root
    for path in ("/../../x", "/etc/up/y", "../../../etc/../z"):
        made = inroot.mkdir_all(fd, path)
        try:
            assert real(made).startswith(str(rootdir) + "/"), path
        finally:
            os.close(made)
    assert list(host.iterdir()) == []


def test_make_file_creates_parents_inside(root: tuple[Path, Path, int]) -> None:
    rootdir, host, fd = root
    made = inroot.make_file(fd, "/abs/deep/file")
    try:
        assert real(made) == str(rootdir / "host" / "deep" / "file") or real(made).startswith(
            str(rootdir)
        )
        assert not inroot.is_dir(made)
    finally:
        os.close(made)
    assert list(host.iterdir()) == []


def test_existing_paths_open_without_change(root: tuple[Path, Path, int]) -> None:
    rootdir, _, fd = root
    made = inroot.mkdir_all(fd, "/etc")
    try:
        assert real(made) == str(rootdir / "etc")
        assert inroot.is_dir(made)
    finally:
        os.close(made)


def test_missing_parts_around_dotdot_are_made_inside(root: tuple[Path, Path, int]) -> None:
    rootdir, host, fd = root
    made = inroot.mkdir_all(fd, "/new/../../made/deeper/still")
    try:
        assert real(made) == str(rootdir / "made" / "deeper" / "still")
    finally:
        os.close(made)
    assert (rootdir / "new").is_dir()
    assert list(host.iterdir()) == []


def test_dangling_link_deep_in_the_path_is_followed_inside(root: tuple[Path, Path, int]) -> None:
    rootdir, host, fd = root
    (rootdir / "a").mkdir()
    os.symlink("/elsewhere/x", rootdir / "a" / "link")
    made = inroot.mkdir_all(fd, "/a/link/y/z")
    try:
        assert real(made) == str(rootdir / "elsewhere" / "x" / "y" / "z")
    finally:
        os.close(made)
    assert list(host.iterdir()) == []
