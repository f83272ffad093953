"""``cp``'s path rules (Docker's PrepareArchiveCopy), names, and the tar round trip
through a root directory, with links that try to leave it."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.engine.archive_extract import clean, extract, rebased
from dockyard.engine.archive_tar import entry_name, split, stat_path, write_tar
from dockyard.engine.copy import CopyRefused, Info, plan, trailing
from dockyard.errors import InvalidArgument, NotFound


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        # a file: onto a missing path, an existing file, into a directory
        (Info("/s/f"), Info("/d/new"), ("/d", ("f", "new"))),
        (Info("/s/f"), Info("/d/old", exists=True), ("/d", ("f", "old"))),
        (Info("/s/f"), Info("/d", exists=True, is_dir=True), ("/d", None)),
        # a directory: onto a missing path becomes it, into a directory goes inside
        (Info("/s/dir", is_dir=True), Info("/d/new"), ("/d", ("dir", "new"))),
        (Info("/s/dir", is_dir=True), Info("/d", exists=True, is_dir=True), ("/d", None)),
        (Info("/s/dir/.", is_dir=True), Info("/d/new"), ("/d", (".", "new"))),
        # -L: the archive carries the link's name
        (Info("/s/target", rebase_name="link"), Info("/d/new"), ("/d", ("link", "new"))),
    ],
)
def test_plan_follows_dockers_rules(
    src: Info, dst: Info, expected: tuple[str, tuple[str, str] | None]
) -> None:
    assert plan(src, dst) == expected


def test_plan_refusals() -> None:
    with pytest.raises(CopyRefused, match="cannot copy directory"):
        plan(Info("/s/dir", is_dir=True), Info("/d/file", exists=True))
    with pytest.raises(CopyRefused, match="no such directory"):
        plan(Info("/s/f"), Info("/d/missing/"))


def test_names() -> None:
    assert split("/a/b") == ("/a", "b")
    assert split("/a/b/") == ("/a", "b")
    assert split("/a/b/.") == ("/a/b", ".")
    assert entry_name("/a/b/.") == "." and entry_name("/") == "/" and entry_name("b/") == "b"
    assert trailing("x/.", "/abs/x") == "/abs/x/." and trailing("x/", "/abs/x") == "/abs/x/"
    assert rebased("d/sub/b", "d", "new") == "new/sub/b"
    assert rebased("d", "d", "new") == "new" and rebased("d/", "d", "new") == "new/"
    assert rebased("./a", ".", "new") == "new/a" and rebased("./", ".", "new") == "new"
    assert rebased("dd/x", "d", "new") == "dd/x"  # a name that only starts alike
    assert clean("a/./b//c", "/x") == ["a", "b", "c"]
    assert clean("a/../b", "/x") == ["b"]
    with pytest.raises(InvalidArgument, match=r'"\.\./etc" is outside of "/x"'):
        clean("../etc", "/x")


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "srv" / "d" / "sub").mkdir(parents=True)
    (root / "srv" / "d" / "a").write_text("hi\n")
    (root / "srv" / "d" / "sub" / "b").write_text("deep\n")
    os.link(root / "srv" / "d" / "a", root / "srv" / "d" / "hard")
    (root / "srv" / "up").symlink_to("/")
    (root / "srv" / "dots").symlink_to("../../../../..")
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("the root's\n")
    return root


def test_a_tree_round_trips_with_its_links(tmp_path: Path) -> None:
    root = _root(tmp_path)
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        data = io.BytesIO()
        write_tar(fd, "/srv/d", data)
        with tarfile.open(fileobj=io.BytesIO(data.getvalue())) as tar:
            members = {m.name: m for m in tar}
        assert sorted(members) == ["d", "d/a", "d/hard", "d/sub", "d/sub/b"]
        assert members["d/hard"].islnk() and members["d/hard"].linkname == "d/a"
        data.seek(0)
        (root / "copy").mkdir()
        extract(data, fd, "/copy", rebase=("d", "renamed"))
        assert (root / "copy" / "renamed" / "sub" / "b").read_text() == "deep\n"
        assert (
            os.stat(root / "copy" / "renamed" / "hard").st_ino
            == os.stat(root / "copy" / "renamed" / "a").st_ino
        )
        contents = io.BytesIO()
        write_tar(fd, "/srv/d/.", contents)
        with tarfile.open(fileobj=io.BytesIO(contents.getvalue())) as tar:
            assert tar.getnames() == [".", "./a", "./hard", "./sub", "./sub/b"]
    finally:
        os.close(fd)


def test_links_in_the_root_resolve_inside_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        # reading through /srv/up and /srv/dots reaches the root's /etc, not the host's
        for path in ("/srv/up/etc/passwd", "/srv/dots/etc/passwd"):
            out = io.BytesIO()
            write_tar(fd, path, out)
            with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
                assert tar.extractfile("passwd").read() == b"the root's\n"  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            stat_path(fd, f"/srv/up{tmp_path}")  # the host's path does not exist in the root
        assert stat_path(fd, "/srv/up").link_target == "/"
        assert stat_path(fd, "/srv/dots").link_target == "/"
        # writing through them lands in the root too
        payload = io.BytesIO()
        with tarfile.open(fileobj=payload, mode="w") as tar:
            info = tarfile.TarInfo("dropped")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        for directory in ("/srv/up/etc", "/srv/dots/etc"):
            payload.seek(0)
            extract(payload, fd, directory)
        assert (root / "etc" / "dropped").read_text() == "x"
        # an archive that makes a link and writes through it stays in the root
        hop = io.BytesIO()
        with tarfile.open(fileobj=hop, mode="w") as tar:
            link = tarfile.TarInfo("hop")
            link.type, link.linkname = tarfile.SYMTYPE, "/"
            tar.addfile(link)
            info = tarfile.TarInfo(f"hop{tmp_path}/escaped")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"y"))
        hop.seek(0)
        extract(hop, fd, "/srv")
        assert not (tmp_path / "escaped").exists()
        assert (root / str(tmp_path).lstrip("/") / "escaped").read_text() == "y"
    finally:
        os.close(fd)


def test_a_directory_never_replaces_a_file_nor_a_file_a_directory(tmp_path: Path) -> None:
    from dockyard.errors import Conflict

    root = _root(tmp_path)
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        for name, kind in (("d/a", tarfile.DIRTYPE), ("d/sub", tarfile.REGTYPE)):
            payload = io.BytesIO()
            with tarfile.open(fileobj=payload, mode="w") as tar:
                info = tarfile.TarInfo(name)
                info.type = kind
                tar.addfile(info, io.BytesIO(b""))
            payload.seek(0)
            with pytest.raises(Conflict, match="cannot overwrite"):
                extract(payload, fd, "/srv")
    finally:
        os.close(fd)
