"""Hostile layers: each is refused with a clear error and writes nothing outside."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.image_spec import OCI_LAYER, Descriptor
from dockyard.storage.local import LocalStore
from dockyard.storage.unpack import HostileLayer, Limits
from tests.integration.image.builder import dir_entry, file_entry, sha256, tar_entries

pytestmark = pytest.mark.integration


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def raw_name(name: str, data: bytes = b"x") -> bytes:
    """A tar whose entry name is written as given (tarfile would not write some)."""
    info = tarfile.TarInfo("placeholder")
    info.size = len(data)
    block = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    block[0:100] = name.encode().ljust(100, b"\0")
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\0".encode()
    body = data + b"\0" * (-len(data) % 512)
    return bytes(block) + body + b"\0" * 1024


HOSTILE = {
    "absolute path": (raw_name("/etc/evil"), "absolute path"),
    "dot-dot": (raw_name("a/../../evil"), "'..'"),
    "write through a symlink": (
        tar_entries([link("escape", "/"), file_entry("escape/evil", b"x")]),
        "symlink",
    ),
    "write through a relative symlink": (
        tar_entries([link("up", "../../.."), file_entry("up/evil", b"x")]),
        "symlink",
    ),
    "hardlink to outside": (
        tar_entries([link("h", "../../outside/target", tarfile.LNKTYPE)]),
        "'..'",
    ),
    "hardlink to an absent file": (
        tar_entries([link("h", "etc/shadow", tarfile.LNKTYPE)]),
        "not in the layer",
    ),
    "whiteout of outside": (raw_name("a/../../.wh.victim"), "'..'"),
    "whiteout of dot-dot": (raw_name("dir/.wh..."), "invalid name"),
    "overlay xattr": (b"", "overlayfs xattr"),
    "too many entries": (tar_entries([file_entry(f"f{i}") for i in range(50)]), "entries"),
    "too large": (tar_entries([file_entry("big", b"x" * 5000)]), "more than"),
    "file as a directory": (
        tar_entries([file_entry("f", b"x"), file_entry("f/child", b"y")]),
        "not a directory",
    ),
}


def _overlay_xattr_layer() -> bytes:
    info = tarfile.TarInfo("d")
    info.type = tarfile.DIRTYPE
    info.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/etc"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_layer_is_refused(case: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    data, problem = HOSTILE[case]
    if case == "overlay xattr":
        data = _overlay_xattr_layer()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target").write_text("host file")
    (outside / "victim").write_text("host file")
    store = LocalStore(
        tmp_path / "store" / "a" / "b", limits=Limits(max_entries=20, max_bytes=4096)
    )
    desc = Descriptor(OCI_LAYER, sha256(data), len(data))
    before = sorted(p.name for p in tmp_path.rglob("*") if "store" not in p.parts)

    with pytest.raises(InvalidArgument, match=problem) as caught, store.ingest() as ingest:
        ingest.layer(desc, desc.digest, desc.digest, "", lambda: io.BytesIO(data))

    assert isinstance(caught.value, HostileLayer) or "tar" in str(caught.value)
    assert sorted(p.name for p in tmp_path.rglob("*") if "store" not in p.parts) == before
    assert (outside / "target").read_text() == "host file"
    assert not store.layers.all() and not store.store.blob_digests()
    assert os.listdir(store.store.tmp_dir) == []
    assert not Path("/etc/evil").exists() and not Path("/evil").exists()


def test_a_benign_layer_with_every_kind_of_entry(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    fifo = tarfile.TarInfo("dev/fifo")
    fifo.type = tarfile.FIFOTYPE
    null = tarfile.TarInfo("dev/null")
    null.type, null.devmajor, null.devminor, null.mode = tarfile.CHRTYPE, 1, 3, 0o666
    owned, data = file_entry("home/user/file", b"mine", 0o4755)
    owned.uid, owned.gid = 1000, 1001
    owned.pax_headers = {"SCHILY.xattr.user.note": "hello"}
    layer = tar_entries(
        [
            dir_entry("dev"),
            fifo,
            null,
            dir_entry("home", 0o700),
            (owned, data),
            link("home/link", "/etc/passwd"),
        ]
    )
    store = LocalStore(tmp_path / "store")
    desc = Descriptor(OCI_LAYER, sha256(layer), len(layer))
    with store.ingest() as ingest:
        ingest.layer(desc, desc.digest, desc.digest, "", lambda: io.BytesIO(layer))
    diff = store.layers.diff_dir(desc.digest)

    st = (diff / "home/user/file").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1000, 1001, 0o4755)
    assert os.getxattr(diff / "home/user/file", "user.note") == b"hello"
    assert os.major((diff / "dev/null").lstat().st_rdev) == 1
    assert (diff / "home").stat().st_mode & 0o777 == 0o700
    assert os.readlink(diff / "home/link") == "/etc/passwd"
    assert (diff / "home/user").stat().st_mode & 0o777 == 0o755  # implicit parent
