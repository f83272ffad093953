"""Device rules: parsing, the v1 emulator, runc's defaults, and the v2 eBPF program."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from dockyard.cgroups.devices import (
    DEFAULT_ALLOWED,
    Emulator,
    container_resources,
    parse_rules,
    rule_string,
)
from dockyard.cgroups.v2.devices import ACC_MKNOD, ACC_READ, ACC_WRITE, compile_program
from dockyard.errors import InvalidSpec

DENY_ALL = {"allow": False, "access": "rwm"}


def test_parse_fills_wildcards_and_orders_access() -> None:
    rules = parse_rules(
        [DENY_ALL, {"allow": True, "type": "c", "major": 1, "access": "mwr"}, {"allow": True}]
    )
    assert rules == [
        (False, "a", -1, -1, "rwm"),
        (True, "c", 1, -1, "rwm"),
        (True, "a", -1, -1, "rwm"),
    ]


def test_minus_one_is_a_wildcard_as_runc_reads_it() -> None:
    rule = {"allow": True, "type": "c", "major": -1, "minor": -1, "access": "m"}

    assert parse_rules([rule]) == [(True, "c", -1, -1, "m")]
    assert rule_string(parse_rules([rule])[0]) == "c *:* m"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"access": "rwm"}, "linux.resources.devices[0].allow"),
        ({"allow": True, "type": "p"}, "linux.resources.devices[0].type"),
        ({"allow": True, "access": "rx"}, "linux.resources.devices[0].access"),
        ({"allow": True, "access": ""}, "linux.resources.devices[0].access"),
        ({"allow": True, "major": -3}, "linux.resources.devices[0].major"),
        ({"allow": True, "minor": "5"}, "linux.resources.devices[0].minor"),
    ],
)
def test_parse_names_the_bad_field(rule: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_rules([rule])
    assert info.value.field == field


def test_emulator_follows_the_kernel_semantics() -> None:
    emu = Emulator.from_rules(
        parse_rules(
            [
                DENY_ALL,
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "m"},
                {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
                {"allow": False, "type": "c", "major": 1, "minor": 5, "access": "w"},
            ]
        )
    )
    assert not emu.default_allow
    assert emu.exceptions == {("c", 1, 3): "rwm", ("c", 1, 5): "rm"}


def test_a_later_wildcard_rule_resets_everything() -> None:
    emu = Emulator.from_rules(
        parse_rules(
            [DENY_ALL, {"allow": True, "type": "c", "major": 1, "minor": 3}, {"allow": True}]
        )
    )
    assert emu.default_allow and emu.exceptions == {}


def test_punching_a_hole_in_a_wildcard_is_refused() -> None:
    rules = parse_rules(
        [
            DENY_ALL,
            {"allow": True, "type": "c", "access": "rwm"},
            {"allow": False, "type": "c", "major": 1, "minor": 3, "access": "r"},
        ]
    )
    with pytest.raises(InvalidSpec) as info:
        Emulator.from_rules(rules)
    assert info.value.field == "linux.resources.devices[2]"


def test_transition_from_the_inherited_allow_all() -> None:
    current = Emulator.from_list("a *:* rwm\n")
    target = Emulator.from_rules(
        parse_rules([DENY_ALL, {"allow": True, "type": "c", "major": 1, "minor": 3}])
    )
    assert [rule_string(r) for r in current.transition(target)] == ["a", "c 1:3 rwm"]


def test_transition_between_allow_lists_drops_and_adds() -> None:
    current = Emulator.from_list("c 1:3 rwm\nc 1:5 rwm\n")
    target = Emulator.from_rules(
        parse_rules(
            [
                DENY_ALL,
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "r"},
                {"allow": True, "type": "c", "major": 1, "minor": 9},
            ]
        )
    )
    transition = current.transition(target)
    assert [(allow, rule_string(r)) for r in transition for allow in [r[0]]] == [
        (False, "c 1:3 wm"),
        (False, "c 1:5 rwm"),
        (True, "c 1:9 rwm"),
    ]


def test_container_resources_appends_runcs_defaults() -> None:
    linux = {
        "resources": {"devices": [DENY_ALL], "pids": {"limit": 5}},
        "devices": [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3}],
    }

    resources = container_resources(linux)

    assert resources["pids"] == {"limit": 5}
    assert resources["devices"][0] == DENY_ALL
    expected = [d for path, d in DEFAULT_ALLOWED if path != "/dev/null"]
    assert parse_rules(resources["devices"][1:]) == expected
    assert linux["resources"]["devices"] == [DENY_ALL]  # the spec is not changed


# -- the eBPF program, run by a small interpreter of the instructions it uses


def run(program: bytes, kind: str, major: int, minor: int, access: str) -> int:
    dev_type = {"b": 1, "c": 2}[kind]
    bits = sum({"m": ACC_MKNOD, "r": ACC_READ, "w": ACC_WRITE}[c] for c in access)
    ctx = [(bits << 16) | dev_type, major, minor]
    insns = [struct.unpack_from("<BBhi", program, i) for i in range(0, len(program), 8)]
    regs = [0] * 11
    pc = 0
    mask = 0xFFFFFFFF
    while True:
        code, reg, off, imm = insns[pc]
        dst, src = reg & 0xF, reg >> 4
        pc += 1
        if code == 0x61:
            assert src == 1 and off in (0, 4, 8)
            regs[dst] = ctx[off // 4]
        elif code == 0x54:
            regs[dst] = regs[dst] & imm & mask
        elif code == 0x74:
            regs[dst] = (regs[dst] & mask) >> imm
        elif code == 0xBC:
            regs[dst] = regs[src] & mask
        elif code == 0xB7:
            regs[dst] = imm
        elif code == 0x55:
            pc += off if regs[dst] != imm else 0
        elif code == 0x5D:
            pc += off if regs[dst] != regs[src] else 0
        elif code == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")


def reachable(program: bytes) -> set[int]:
    """Instructions the verifier would find reachable (it refuses dead code)."""
    insns = [struct.unpack_from("<BBhi", program, i) for i in range(0, len(program), 8)]
    seen: set[int] = set()
    todo = [0]
    while todo:
        pc = todo.pop()
        if pc in seen:
            continue
        seen.add(pc)
        code, _, off, _ = insns[pc]
        if code == 0x95:
            continue
        todo.append(pc + 1)
        if code in (0x55, 0x5D):
            todo.append(pc + 1 + off)
    assert max(seen) < len(insns)
    return seen


def compiled(rules: list[dict[str, Any]]) -> bytes:
    program = compile_program(Emulator.from_rules(parse_rules(rules)))
    assert len(reachable(program)) == len(program) // 8
    return program


def test_program_for_an_allow_list() -> None:
    program = compiled(
        [
            DENY_ALL,
            {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"},
            {"allow": True, "type": "c", "major": 136, "access": "rw"},
            {"allow": True, "type": "b", "access": "m"},
        ]
    )

    assert run(program, "c", 1, 3, "rw") == 1
    assert run(program, "c", 1, 3, "m") == 1
    assert run(program, "b", 1, 3, "r") == 0  # right numbers, wrong type
    assert run(program, "c", 1, 5, "r") == 1
    assert run(program, "c", 1, 5, "w") == 0
    assert run(program, "c", 1, 5, "rw") == 0  # all bits must be allowed
    assert run(program, "c", 136, 7, "rw") == 1
    assert run(program, "c", 136, 7, "m") == 0
    assert run(program, "b", 8, 0, "m") == 1
    assert run(program, "b", 8, 0, "r") == 0
    assert run(program, "c", 4, 1, "r") == 0


def test_program_for_a_deny_list() -> None:
    program = compiled(
        [{"allow": True}, {"allow": False, "type": "c", "major": 10, "minor": 200, "access": "rw"}]
    )
    assert run(program, "c", 10, 200, "r") == 0
    assert run(program, "c", 10, 200, "m") == 1
    assert run(program, "b", 8, 0, "rw") == 1


def test_program_with_no_exceptions_is_just_the_default() -> None:
    assert run(compiled([DENY_ALL]), "c", 1, 3, "r") == 0
    assert run(compiled([]), "c", 1, 3, "r") == 0  # an empty list denies, as runc's does
    assert run(compiled([{"allow": True}]), "c", 1, 3, "r") == 1


def test_default_rules_program() -> None:
    linux: dict[str, Any] = {"resources": {"devices": [DENY_ALL]}}
    program = compiled(container_resources(linux)["devices"])
    assert run(program, "c", 1, 3, "rw") == 1  # /dev/null
    assert run(program, "c", 136, 0, "rw") == 1  # a pty
    assert run(program, "b", 8, 0, "m") == 1  # mknod of anything
    assert run(program, "b", 8, 0, "r") == 0
