"""linux.seccomp parsing: what is accepted, and every refusal naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dockyard.errors import InvalidSpec
from dockyard.oci.runtime_spec import Spec
from dockyard.oci.seccomp import Seccomp, parse_seccomp

PROFILE: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 38,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "flags": ["SECCOMP_FILTER_FLAG_LOG"],
    "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100},
        {
            "names": ["personality"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
        },
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
        },
    ],
}


def profile(**changes: Any) -> dict[str, Any]:
    p = copy.deepcopy(PROFILE)
    p.update(changes)
    return p


def refusal(value: Any) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as caught:
        parse_seccomp(value)
    return caught.value


def test_a_full_profile_parses() -> None:
    seccomp = parse_seccomp(profile())

    assert isinstance(seccomp, Seccomp)
    assert seccomp.default_action == "SCMP_ACT_ERRNO"
    assert seccomp.default_errno_ret == 38
    assert seccomp.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    assert seccomp.flags == ["SECCOMP_FILTER_FLAG_LOG"]
    assert [r.names for r in seccomp.syscalls][:2] == [["read", "write"], ["mkdir"]]
    assert seccomp.syscalls[1].errno_ret == 100
    masked = seccomp.syscalls[3].args[0]
    assert (masked.index, masked.op, masked.value, masked.value_two) == (
        0,
        "SCMP_CMP_MASKED_EQ",
        0x7E020000,
        0,
    )
    assert not seccomp.notifies


def test_flags_left_out_differ_from_no_flags() -> None:
    without = profile()
    del without["flags"]
    absent = parse_seccomp(without)
    empty = parse_seccomp(profile(flags=[]))

    assert absent is not None and absent.flags is None  # the runtime picks its default
    assert empty is not None and empty.flags == []


def test_a_profile_asking_nothing_is_no_profile() -> None:
    assert parse_seccomp({}) is None
    assert parse_seccomp({"architectures": ["SCMP_ARCH_X86_64"]}) is None


def test_the_spec_carries_the_checked_profile() -> None:
    spec = Spec(
        {"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {"seccomp": profile()}}
    )
    plain = Spec({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {}})

    assert isinstance(spec.linux.seccomp, Seccomp)
    assert plain.linux.seccomp is None


def test_a_bad_profile_in_a_spec_names_the_rule() -> None:
    bad = profile()
    bad["syscalls"][3]["action"] = "SCMP_ACT_MAYBE"
    with pytest.raises(InvalidSpec) as caught:
        Spec({"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {"seccomp": bad}})

    assert caught.value.field == "linux.seccomp.syscalls[3].action"
    assert "SCMP_ACT_MAYBE" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"defaultAction": "SCMP_ACT_NOPE"}, "linux.seccomp.defaultAction"),
        ({"defaultAction": 1}, "linux.seccomp.defaultAction"),
        ({"defaultAction": "SCMP_ACT_NOTIFY"}, "linux.seccomp.defaultAction"),
        ({"defaultAction": None}, "linux.seccomp.defaultAction"),
        ({"defaultErrnoRet": -1}, "linux.seccomp.defaultErrnoRet"),
        ({"defaultAction": "SCMP_ACT_KILL"}, "linux.seccomp.defaultErrnoRet"),
        (
            {"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]},
            "linux.seccomp.architectures[1]",
        ),
        ({"architectures": "SCMP_ARCH_X86_64"}, "linux.seccomp.architectures"),
        ({"flags": ["SECCOMP_FILTER_FLAG_NONE"]}, "linux.seccomp.flags[0]"),
        ({"listenerPath": 5}, "linux.seccomp.listenerPath"),
        ({"syscalls": {}}, "linux.seccomp.syscalls"),
        ({"syscalls": ["read"]}, "linux.seccomp.syscalls[0]"),
    ],
)
def test_bad_profile_fields(change: dict[str, Any], field: str) -> None:
    assert refusal(profile(**change)).field == field


def rule_refusal(index: int, **rule: Any) -> InvalidSpec:
    p = profile()
    p["syscalls"][index] = rule
    return refusal(p)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"action": "SCMP_ACT_ALLOW"}, "linux.seccomp.syscalls[2].names"),
        ({"names": [], "action": "SCMP_ACT_ALLOW"}, "linux.seccomp.syscalls[2].names"),
        ({"names": ["read", ""], "action": "SCMP_ACT_ALLOW"}, "linux.seccomp.syscalls[2].names[1]"),
        ({"names": ["read"]}, "linux.seccomp.syscalls[2].action"),
        ({"names": ["read"], "action": "ALLOW"}, "linux.seccomp.syscalls[2].action"),
        (
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1},
            "linux.seccomp.syscalls[2].errnoRet",
        ),
        (
            {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000},
            "linux.seccomp.syscalls[2].errnoRet",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"value": 1, "op": "SCMP_CMP_EQ"}],
            },
            "linux.seccomp.syscalls[2].args[0].index",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}],
            },
            "linux.seccomp.syscalls[2].args[0].index",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "op": "SCMP_CMP_EQ"}],
            },
            "linux.seccomp.syscalls[2].args[0].value",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 2**64, "op": "SCMP_CMP_EQ"}],
            },
            "linux.seccomp.syscalls[2].args[0].value",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 1, "valueTwo": "x", "op": "SCMP_CMP_EQ"}],
            },
            "linux.seccomp.syscalls[2].args[0].valueTwo",
        ),
        (
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1}]},
            "linux.seccomp.syscalls[2].args[0].op",
        ),
        (
            {
                "names": ["read"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}],
            },
            "linux.seccomp.syscalls[2].args[0].op",
        ),
    ],
)
def test_bad_rules_are_named_by_index(rule: dict[str, Any], field: str) -> None:
    assert rule_refusal(2, **rule).field == field


def test_every_operator_and_action_is_known() -> None:
    ops = ["NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"]
    actions = ["KILL", "KILL_THREAD", "KILL_PROCESS", "TRAP", "ERRNO", "TRACE", "ALLOW", "LOG"]
    p = profile(
        syscalls=[
            {
                "names": ["read"],
                "action": f"SCMP_ACT_{action}",
                "args": [{"index": i % 6, "value": 1, "op": f"SCMP_CMP_{op}"}],
            }
            for i, (op, action) in enumerate(zip(ops * 2, actions, strict=False))
        ]
    )
    seccomp = parse_seccomp(p)
    assert seccomp is not None and len(seccomp.syscalls) == len(actions)


def test_notify_needs_a_listener_path() -> None:
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    assert refusal(profile(syscalls=[rule])).field == "linux.seccomp.listenerPath"
    relative = profile(syscalls=[rule], listenerPath="agent.sock")
    assert refusal(relative).field == "linux.seccomp.listenerPath"

    seccomp = parse_seccomp(
        profile(syscalls=[rule], listenerPath="/run/agent.sock", listenerMetadata="hello")
    )
    assert seccomp is not None and seccomp.notifies
    assert seccomp.listener_metadata == "hello"


def test_notify_cannot_take_the_call_the_init_uses_to_reach_the_listener() -> None:
    # The init writes the descriptor's number to the runtime after the filter.
    rule = {"names": ["mkdir", "write"], "action": "SCMP_ACT_NOTIFY"}
    p = profile(syscalls=[rule], listenerPath="/run/agent.sock")
    assert refusal(p).field == "linux.seccomp.syscalls[0].names[1]"
    # The socket calls are the runtime's, on the host: a profile may notify them.
    rule = {"names": ["sendmsg", "getsockname", "getsockopt", "close"], "action": "SCMP_ACT_NOTIFY"}
    assert parse_seccomp(profile(syscalls=[rule], listenerPath="/run/agent.sock")) is not None
