from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.errors import HostError
from dockyard.storage.links import NAME_LENGTH, ensure_link, link_name, remove_link


def test_links_are_short_derived_and_idempotent(tmp_path: Path) -> None:
    layer = tmp_path / "layers" / ("a" * 64) / "diff"
    layer.mkdir(parents=True)
    (layer / "file").write_text("x")

    short = ensure_link(tmp_path, layer)

    assert short == f"l/{link_name(tmp_path, layer)}" and len(short) == 2 + NAME_LENGTH
    assert ensure_link(tmp_path, layer) == short  # a second process computes the same
    assert (tmp_path / short / "file").read_text() == "x"
    assert os.readlink(tmp_path / short) == f"../layers/{'a' * 64}/diff"
    other = tmp_path / "layers" / ("b" * 64) / "diff"
    assert link_name(tmp_path, other) != link_name(tmp_path, layer)
    remove_link(tmp_path, layer)
    remove_link(tmp_path, layer)  # gone already: fine
    assert os.listdir(tmp_path / "l") == []


def test_a_link_pointing_elsewhere_is_never_used(tmp_path: Path) -> None:
    layer = tmp_path / "layers" / "x" / "diff"
    (tmp_path / "l").mkdir()
    os.symlink("/etc", tmp_path / "l" / link_name(tmp_path, layer))
    with pytest.raises(HostError, match="points to '/etc'"):
        ensure_link(tmp_path, layer)


def test_names_are_base32_of_the_targets_sha256_as_before(tmp_path: Path) -> None:
    # the names on disk must not change: stores made by earlier versions keep their links
    import base64
    import hashlib

    from dockyard.storage.links import base32_prefix

    layer = tmp_path / "layers" / ("c" * 64) / "diff"
    digest = hashlib.sha256(f"../layers/{'c' * 64}/diff".encode()).digest()
    assert link_name(tmp_path, layer) == base64.b32encode(digest).decode()[:NAME_LENGTH]
    assert link_name(str(tmp_path), str(layer)) == link_name(tmp_path, layer)
    for size in (5, 16, 32):
        for _ in range(50):
            data = os.urandom(size)
            expected = base64.b32encode(data).decode().rstrip("=")
            for length in (1, 7, 8, len(data) * 8 // 5):
                assert base32_prefix(data, length) == expected[:length]
    with pytest.raises(ValueError):
        base32_prefix(b"12345", 9)
