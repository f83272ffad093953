"""Docker's detach keys: the --detach-keys syntax and the matcher on typed input."""

from __future__ import annotations

import pytest

from dockyard.engine.attach import DetachKeys, parse_detach_keys
from dockyard.errors import InvalidArgument


def test_dockers_syntax() -> None:
    assert parse_detach_keys("") == b"\x10\x11"  # ctrl-p,ctrl-q
    assert parse_detach_keys("ctrl-a,x") == b"\x01x"
    assert parse_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_") == bytes(
        [0, 27, 28, 29, 30, 31]
    )
    for bad in ("ctrl-", "ctrl-1", "ab", "ctrl-a,,x", "ctrl-A"):
        with pytest.raises(InvalidArgument, match=r"Invalid detach keys \(.*\) provided"):
            parse_detach_keys(bad)


def test_the_sequence_is_held_back_and_given_up_when_broken() -> None:
    keys = DetachKeys(b"\x10\x11")

    assert keys.feed(b"ls\x10") == (b"ls", False)  # ctrl-p held: it may start the sequence
    assert keys.feed(b"x") == (b"\x10x", False)  # it did not: both go to the container
    assert keys.feed(b"\x10") == (b"", False)
    assert keys.feed(b"\x11rest") == (b"", True)  # typed across two reads


def test_a_repeated_first_key_and_the_bytes_before_a_detach() -> None:
    keys = DetachKeys(b"\x10\x11")

    assert keys.feed(b"ab\x10\x10\x11") == (b"ab\x10", True)
