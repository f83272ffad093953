"""The port redirect's map entries and its hand-assembled programs, without a kernel."""

from __future__ import annotations

import struct

from dockyard.linux import sock_redirect
from dockyard.network import port_redirect


def test_a_binding_on_every_address_is_reached_by_loopback_and_the_gateway() -> None:
    found = port_redirect.entries(
        [("0.0.0.0", 8080, "10.1.2.3", 80), ("127.0.0.2", 9000, "10.1.2.4", 443)], "10.1.2.1"
    )
    assert found == [
        (bytes([127, 0, 0, 0, 0x1F, 0x90, 0, 0]), bytes([10, 1, 2, 3, 0, 80, 0, 0])),
        (bytes([10, 1, 2, 1, 0x1F, 0x90, 0, 0]), bytes([10, 1, 2, 3, 0, 80, 0, 0])),
        (bytes([127, 0, 0, 2, 0x23, 0x28, 0, 0]), bytes([10, 1, 2, 4, 0x01, 0xBB, 0, 0])),
    ]
    # the loopback key is what the program writes for "any 127.0.0.0/8 address"
    assert found[0][0][:4] == sock_redirect.LOOPBACK_ANY


def test_which_keys_a_release_matches() -> None:
    wide = port_redirect.key("10.1.2.1", 8080)
    exact = port_redirect.key("127.0.0.2", 9000)
    assert port_redirect._matches(wide, {("0.0.0.0", 8080)})
    assert not port_redirect._matches(wide, {("0.0.0.0", 8081)})
    assert port_redirect._matches(exact, {("127.0.0.2", 9000)})
    assert not port_redirect._matches(exact, {("127.0.0.1", 9000)})


def _insns(code: bytes) -> list[tuple[int, int, int, int, int]]:
    out = []
    for at in range(0, len(code), 8):
        op, regs, off, imm = struct.unpack("<BBhi", code[at : at + 8])
        out.append((op, regs & 0xF, regs >> 4, off, imm))
    return out


def test_the_programs_jump_inside_themselves_and_always_allow() -> None:
    for code in (sock_redirect.connect4(5, 6, 7), sock_redirect.getpeername4(7)):
        insns = _insns(code)
        assert insns[-2:] == [(0xB7, 0, 0, 0, 1), (0x95, 0, 0, 0, 0)]  # r0 = 1; exit
        for at, (op, _dst, _src, off, _imm) in enumerate(insns):
            if op & 0x07 == 0x05 and op not in (0x85, 0x95):  # a jump
                assert 0 <= at + 1 + off < len(insns)
        # the maps are referenced by their fds (BPF_PSEUDO_MAP_FD), two slots each
        maps = [imm for op, _d, src, _o, imm in insns if op == 0x18 and src == 1]
        assert set(maps) <= {5, 6, 7} and maps
