"""Building seccomp filters: libseccomp's program, runc's rules and our -ENOSYS
stub, checked by running the BPF in an interpreter (tests/unit/bpf.py), and
once for real in a forked child (no root needed with no_new_privs)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from dockyard.errors import InvalidSpec
from dockyard.oci.runtime_spec import Process
from dockyard.oci.seccomp import Seccomp, parse_seccomp
from tests.unit import bpf

seccomp_lib = pytest.importorskip("dockyard.linux.seccomp")
try:
    seccomp_lib.load_library()
except OSError as exc:  # pragma: no cover - the host lacks libseccomp2
    pytest.skip(f"libseccomp is not available: {exc}", allow_module_level=True)

from dockyard.runtime import seccomp as rs  # noqa: E402

if os.uname().machine != "x86_64":  # pragma: no cover
    pytest.skip("the expected syscall numbers are x86_64's", allow_module_level=True)

X86_64 = bpf.AUDIT_ARCH_X86_64
I386 = bpf.AUDIT_ARCH_I386
NR = {
    "read": 0,
    "write": 1,
    "getpid": 39,
    "clone": 56,
    "mkdir": 83,
    "personality": 135,
    "socket": 41,
    "mount": 165,
    "init_module": 175,
    "keyctl": 250,
    "unshare": 272,
    "clone3": 435,
    "fchmodat2": 452,
    "ptrace": 101,
}
I386_MKDIR = 39


def parsed(d: dict[str, Any]) -> Seccomp:
    seccomp = parse_seccomp(d)
    assert seccomp is not None
    return seccomp


def program(d: dict[str, Any]) -> bytes:
    return rs.compile_bpf(parsed(d))


def errno_of(action: int) -> int | None:
    return action & 0xFFFF if action & 0xFFFF0000 == bpf.RET_ERRNO else None


def test_errno_rule_and_default() -> None:
    prog = program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 100}
            ],
        }
    )

    assert bpf.run(prog, X86_64, NR["mkdir"]) == bpf.RET_ERRNO | 100
    assert bpf.run(prog, X86_64, NR["getpid"]) == bpf.RET_ALLOW


def test_errno_defaults_to_eperm_and_default_errno_is_honoured() -> None:
    prog = program(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": errno.ENXIO,
            "syscalls": [
                {"names": ["read", "write", "getpid", "fchmodat2"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
            ],
        }
    )

    assert bpf.run(prog, X86_64, NR["mkdir"]) == bpf.RET_ERRNO | errno.EPERM
    assert bpf.run(prog, X86_64, NR["personality"]) == bpf.RET_ERRNO | errno.ENXIO
    assert bpf.run(prog, X86_64, NR["read"]) == bpf.RET_ALLOW


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("SCMP_ACT_KILL", bpf.RET_KILL_THREAD),
        ("SCMP_ACT_KILL_THREAD", bpf.RET_KILL_THREAD),
        ("SCMP_ACT_KILL_PROCESS", bpf.RET_KILL_PROCESS),
        ("SCMP_ACT_TRAP", bpf.RET_TRAP),
        ("SCMP_ACT_LOG", bpf.RET_LOG),
        ("SCMP_ACT_TRACE", bpf.RET_TRACE | errno.EPERM),
        ("SCMP_ACT_NOTIFY", bpf.RET_USER_NOTIF),
    ],
)
def test_actions(action: str, expected: int) -> None:
    prog = program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/run/agent.sock",
            "syscalls": [{"names": ["mkdir"], "action": action}],
        }
    )
    assert bpf.run(prog, X86_64, NR["mkdir"]) == expected


def test_unknown_names_are_ignored_and_default_action_rules_dropped() -> None:
    prog = program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["no_such_syscall", "mkdir"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
            ],
        }
    )
    assert bpf.run(prog, X86_64, NR["mkdir"]) == bpf.RET_ERRNO | errno.EPERM
    assert bpf.run(prog, X86_64, NR["getpid"]) == bpf.RET_ALLOW


def arg_rule(*args: dict[str, Any]) -> bytes:
    return program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": list(args)}
            ],
        }
    )


@pytest.mark.parametrize(
    ("op", "value", "denied", "allowed"),
    [
        ("SCMP_CMP_EQ", 8, [8], [0, 9, 8 | 1 << 32]),
        ("SCMP_CMP_NE", 8, [0, 9], [8]),
        ("SCMP_CMP_LT", 8, [0, 7], [8, 9, 1 << 40]),
        ("SCMP_CMP_LE", 8, [0, 8], [9, 1 << 40]),
        ("SCMP_CMP_GT", 8, [9, 1 << 40], [0, 8]),
        ("SCMP_CMP_GE", 8, [8, 1 << 40], [0, 7]),
    ],
)
def test_argument_operators(op: str, value: int, denied: list[int], allowed: list[int]) -> None:
    prog = arg_rule({"index": 0, "value": value, "op": op})
    for arg in denied:
        assert bpf.run(prog, X86_64, NR["personality"], (arg,)) == bpf.RET_ERRNO | 1, (op, arg)
    for arg in allowed:
        assert bpf.run(prog, X86_64, NR["personality"], (arg,)) == bpf.RET_ALLOW, (op, arg)


def test_masked_equal_takes_the_mask_in_value() -> None:
    prog = arg_rule({"index": 1, "value": 0xF0, "valueTwo": 0x30, "op": "SCMP_CMP_MASKED_EQ"})

    assert bpf.run(prog, X86_64, NR["personality"], (0, 0x30)) == bpf.RET_ERRNO | 1
    assert bpf.run(prog, X86_64, NR["personality"], (0, 0x3F)) == bpf.RET_ERRNO | 1
    assert bpf.run(prog, X86_64, NR["personality"], (0, 0x40)) == bpf.RET_ALLOW
    assert bpf.run(prog, X86_64, NR["personality"], (0x30, 0)) == bpf.RET_ALLOW


def test_conditions_on_different_arguments_must_all_hold() -> None:
    prog = arg_rule(
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
        {"index": 2, "value": 3, "op": "SCMP_CMP_EQ"},
    )
    assert bpf.run(prog, X86_64, NR["personality"], (1, 0, 3)) == bpf.RET_ERRNO | 1
    assert bpf.run(prog, X86_64, NR["personality"], (1, 0, 4)) == bpf.RET_ALLOW
    assert bpf.run(prog, X86_64, NR["personality"], (2, 0, 3)) == bpf.RET_ALLOW


def test_conditions_on_one_argument_match_either_as_runc_does() -> None:
    prog = arg_rule(
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
    )
    for arg, expected in ((1, bpf.RET_ERRNO | 1), (2, bpf.RET_ERRNO | 1), (3, bpf.RET_ALLOW)):
        assert bpf.run(prog, X86_64, NR["personality"], (arg,)) == expected


def test_other_architectures_get_their_own_numbers() -> None:
    prog = program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
        }
    )
    assert bpf.run(prog, I386, I386_MKDIR) == bpf.RET_ERRNO | 1
    assert bpf.run(prog, I386, NR["mkdir"]) == bpf.RET_ALLOW  # 83 is not mkdir on i386
    # an architecture the filter does not cover is killed (libseccomp's bad-arch action)
    assert bpf.run(prog, bpf.AUDIT_ARCH_AARCH64, 34) == bpf.RET_KILL_THREAD


# ------------------------------------------------------------ the -ENOSYS stub

STRICT: dict[str, Any] = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [
        {"names": ["read", "write", "getpid", "clone"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["unshare"], "action": "SCMP_ACT_ERRNO"},
    ],
}


def test_syscalls_newer_than_the_profile_get_enosys() -> None:
    prog = program(STRICT)

    highest = NR["unshare"]  # the highest number the profile names, whatever the action
    assert errno_of(bpf.run(prog, X86_64, highest + 1)) == errno.ENOSYS
    assert errno_of(bpf.run(prog, X86_64, NR["clone3"])) == errno.ENOSYS
    assert errno_of(bpf.run(prog, X86_64, NR["mount"])) == errno.EPERM  # known, not allowed
    assert bpf.run(prog, X86_64, NR["getpid"]) == bpf.RET_ALLOW


def test_enosys_stub_tells_x32_from_x86_64() -> None:
    with_x32 = program({**STRICT, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]})
    without = program(STRICT)

    x32_getpid = bpf.X32_BIT | 39
    assert bpf.run(with_x32, X86_64, x32_getpid) == bpf.RET_ALLOW
    assert errno_of(bpf.run(with_x32, X86_64, bpf.X32_BIT | 600)) == errno.ENOSYS
    # no x32 in the profile: x32 calls are not ENOSYS but refused by libseccomp's filter
    assert errno_of(bpf.run(without, X86_64, x32_getpid)) != errno.ENOSYS
    assert bpf.run(without, X86_64, x32_getpid) != bpf.RET_ALLOW


@pytest.mark.parametrize(
    "change",
    [
        {"defaultAction": "SCMP_ACT_ALLOW"},
        {"defaultAction": "SCMP_ACT_LOG"},
        {"defaultErrnoRet": errno.ENOSYS},
    ],
)
def test_no_stub_where_it_changes_nothing(change: dict[str, Any]) -> None:
    seccomp = parsed({**STRICT, **change})
    assert not rs._wants_enosys_stub(seccomp)


def test_stub_assembly_for_several_architectures() -> None:
    stub = rs.enosys_stub({X86_64: 300, seccomp_lib.ARCH_X32: bpf.X32_BIT | 500, I386: 400})
    tail = bpf.RET_ALLOW.to_bytes(4, "little")
    ret_allow = (0x06).to_bytes(2, "little") + bytes(2) + tail  # what "the filter" answers
    prog = stub + ret_allow

    assert errno_of(bpf.run(prog, X86_64, 301)) == errno.ENOSYS
    assert bpf.run(prog, X86_64, 300) == bpf.RET_ALLOW
    assert bpf.run(prog, X86_64, bpf.X32_BIT | 500) == bpf.RET_ALLOW
    assert errno_of(bpf.run(prog, X86_64, bpf.X32_BIT | 501)) == errno.ENOSYS
    assert errno_of(bpf.run(prog, I386, 401)) == errno.ENOSYS
    assert bpf.run(prog, I386, 399) == bpf.RET_ALLOW
    assert bpf.run(prog, bpf.AUDIT_ARCH_AARCH64, 9999) == bpf.RET_ALLOW


# ------------------------------------------------------------ flags and timing


def flags_of(**changes: Any) -> int:
    return rs.kernel_flags(parsed({**STRICT, **changes}))


def test_kernel_flags() -> None:
    assert flags_of() == seccomp_lib.FILTER_FLAG_SPEC_ALLOW  # runc's default
    assert flags_of(flags=[]) == 0
    assert flags_of(flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"]) == (
        seccomp_lib.FILTER_FLAG_LOG | seccomp_lib.FILTER_FLAG_TSYNC
    )
    # WAIT_KILLABLE_RECV only means something to a listener
    assert flags_of(flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]) == 0
    notify = {
        "listenerPath": "/run/agent.sock",
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    }
    assert flags_of(**notify) == (
        seccomp_lib.FILTER_FLAG_NEW_LISTENER | seccomp_lib.FILTER_FLAG_WAIT_KILLABLE_RECV
    )


def process(**d: Any) -> Process:
    return Process({"cwd": "/", "args": ["true"], **d})


def test_the_filter_waits_for_exec_exactly_when_no_new_privs_is_set() -> None:
    # runc's rule: without no_new_privs the filter goes in before the
    # capabilities go, whatever capabilities the process keeps.
    profile = parsed({"defaultAction": "SCMP_ACT_ALLOW"})
    assert rs.Program(profile, process(noNewPrivileges=True)).late
    admin = process(capabilities={"effective": ["CAP_SYS_ADMIN"]})
    assert not rs.Program(profile, admin).late
    assert not rs.Program(profile, process()).late


def test_allows_says_whether_a_call_passes_whatever_its_arguments() -> None:
    allow_all = parsed({"defaultAction": "SCMP_ACT_ALLOW"})
    assert rs.allows(allow_all, "execveat")
    deny = {"names": ["execveat"], "action": "SCMP_ACT_KILL"}
    assert not rs.allows(
        parsed({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [deny]}), "execveat"
    )
    allow = {"names": ["execve", "execveat"], "action": "SCMP_ACT_ALLOW"}
    strict = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [allow]}
    assert rs.allows(parsed(strict), "execveat")
    assert not rs.allows(parsed(strict), "close_range")
    tested = {**allow, "args": [{"index": 4, "value": 0, "op": "SCMP_CMP_EQ"}]}
    assert not rs.allows(parsed({**strict, "syscalls": [tested]}), "execveat")


def test_a_rule_libseccomp_refuses_is_named() -> None:
    same_test = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]
    seccomp = parsed(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": same_test},
                {"names": ["mkdir"], "action": "SCMP_ACT_KILL", "args": same_test},
            ],
        }
    )
    with pytest.raises(InvalidSpec) as caught:
        rs.compile_bpf(seccomp)

    assert caught.value.field == "linux.seccomp.syscalls[1]"
    assert "mkdir" in str(caught.value)


# ------------------------------------------------------------ the cache


def test_programs_are_cached_in_the_state_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ctr").mkdir()
    state_dir = os.open(tmp_path / "ctr", os.O_PATH | os.O_DIRECTORY)
    try:
        seccomp = parsed(STRICT)
        first = rs.cached_bpf(seccomp, state_dir)
        assert [p.name for p in (tmp_path / rs.CACHE_DIR).iterdir()]

        def no_compiling(_: Seccomp) -> bytes:
            raise AssertionError("compiled again")

        monkeypatch.setattr(rs, "compile_bpf", no_compiling)
        assert rs.cached_bpf(seccomp, state_dir) == first
        with pytest.raises(AssertionError, match="compiled again"):
            rs.cached_bpf(parsed({**STRICT, "defaultErrnoRet": 5}), state_dir)
        monkeypatch.undo()

        entry = next((tmp_path / rs.CACHE_DIR).iterdir())
        entry.write_bytes(entry.read_bytes()[:-3])  # a torn entry is compiled anew
        assert rs.cached_bpf(seccomp, state_dir) == first
    finally:
        os.close(state_dir)


# ------------------------------------------------------------ for real


def test_the_filter_works_in_a_process(tmp_path: Path) -> None:
    seccomp = parsed(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [
                {
                    "names": ["mkdir", "mkdirat"],
                    "action": "SCMP_ACT_ERRNO",
                    "errnoRet": errno.ENETDOWN,
                }
            ],
        }
    )
    prog = rs.Program(seccomp, process(noNewPrivileges=True))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            from dockyard.linux import libc

            libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
            prog.install()
            try:
                os.mkdir(tmp_path / "denied")
                result = b"created"
            except OSError as exc:
                result = str(exc.errno).encode()
            os.write(write_end, result)
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 100)
    os.close(read_end)
    os.waitpid(pid, 0)

    assert answer == str(errno.ENETDOWN).encode()
    assert not (tmp_path / "denied").exists()
