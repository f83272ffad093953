"""linux.seccomp enforced, as runc's seccomp.bats and linux_seccomp tests check it:
a denied syscall returns the configured errno, a killed one kills, argument
filters match exactly. Syscalls are made by busybox where it can, else by the
static probe (probe.c)."""

from __future__ import annotations

import errno
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.security.support import add_probe, probe_results, seccomp
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [
    pytest.mark.integration,
    pytest.mark.runtime,
    requires("root"),
    pytest.mark.usefixtures("both_filter_places"),
]

AT_FDCWD = "0xffffffffffffff9c"
SIGSYS_STATUS = 128 + signal.SIGSYS


def deny_mkdir(action: str = "SCMP_ACT_ERRNO", **rule: Any) -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": action, **rule}],
    }


def test_errno_default_is_eperm(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, deny_mkdir())
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/foo")

    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


def test_errno_ret_is_returned(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, deny_mkdir(errnoRet=errno.ENETDOWN))
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/foo")

    assert result.returncode != 0
    assert "Network is down" in result.stderr


def test_other_syscalls_are_untouched(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, deny_mkdir())
    result = run_in_container(runtime, bundle, "sh", "-c", "touch /dev/shm/f && echo made")

    assert (result.returncode, result.stdout) == (0, "made\n"), result.stderr


def test_default_errno_ret(runtime: Runtime, bundle: Bundle, probe_binary: Path) -> None:
    from dockyard.runtime.seccomp_default import ALLOWED

    probe = add_probe(bundle, probe_binary)
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": errno.ENXIO,
        "syscalls": [
            {
                "names": [name for name in [*ALLOWED, "arch_prctl"] if name != "umask"],
                "action": "SCMP_ACT_ALLOW",
            }
        ],
    }
    seccomp(bundle, profile)
    result = run_in_container(runtime, bundle, probe, "sys", "getpid", "--", "sys", "umask", "0")

    assert result.returncode == 0, result.stderr
    got = probe_results(result.stdout)
    assert got["sys:getpid"][0] == "ok"
    assert got["sys:umask"] == ("errno", errno.ENXIO)


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_killing_actions_end_the_process_with_sigsys(
    runtime: Runtime, bundle: Bundle, action: str
) -> None:
    seccomp(bundle, deny_mkdir(action))
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/foo")

    assert result.returncode == SIGSYS_STATUS, (result.returncode, result.stderr)


def test_kill_thread_in_a_child_leaves_the_parent(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, deny_mkdir("SCMP_ACT_KILL"))
    result = run_in_container(
        runtime, bundle, "sh", "-c", "mkdir /dev/shm/foo; echo status $?; test ! -e /dev/shm/foo"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"status {SIGSYS_STATUS}\n"


def test_log_action_allows(runtime: Runtime, bundle: Bundle) -> None:
    seccomp(bundle, deny_mkdir("SCMP_ACT_LOG"))
    result = run_in_container(runtime, bundle, "sh", "-c", "mkdir /dev/shm/foo && echo made")

    assert (result.returncode, result.stdout) == (0, "made\n"), result.stderr


def personality_rule(*args: dict[str, Any]) -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {
                "names": ["personality"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EUCLEAN,
                "args": list(args),
            }
        ],
    }


def personality_calls(runtime: Runtime, bundle: Bundle, probe: str, *values: int) -> list[Any]:
    argv: list[str] = []
    for value in values:
        argv += ["sys", "personality", hex(value), "--"]
    result = run_in_container(runtime, bundle, probe, *argv)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.startswith("sys:")]
    return [(status, int(n)) if status == "errno" else status for _, status, n in lines]


def test_argument_filter_matches_exactly(
    runtime: Runtime, bundle: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(bundle, probe_binary)
    seccomp(bundle, personality_rule({"index": 0, "value": 0x0020008, "op": "SCMP_CMP_EQ"}))

    got = personality_calls(runtime, bundle, probe, 0x0020008, 0xFFFFFFFF, 0x0020000)

    assert got == [("errno", errno.EUCLEAN), "ok", "ok"]


def test_argument_filter_compares_all_64_bits(
    runtime: Runtime, bundle: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(bundle, probe_binary)
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {
                "names": ["dup3"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EUCLEAN,
                "args": [{"index": 2, "value": 1 << 40, "op": "SCMP_CMP_GE"}],
            }
        ],
    }
    seccomp(bundle, profile)
    # dup3(0, 0, flags) fails with EINVAL when allowed (old == new)
    result = run_in_container(
        runtime, bundle, probe, "sys", "dup3", "0", "0", hex(1 << 40), "--",
        "sys", "dup3", "0", "0", "0x80000",
    )  # fmt: skip

    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines == [
        ["sys:dup3", "errno", str(errno.EUCLEAN)],
        ["sys:dup3", "errno", str(errno.EINVAL)],
    ], result.stderr


def test_masked_equal(runtime: Runtime, bundle: Bundle, probe_binary: Path) -> None:
    probe = add_probe(bundle, probe_binary)
    # deny when (persona & 0xff00) == 0x0400: value is the mask, valueTwo the result
    seccomp(
        bundle,
        personality_rule(
            {"index": 0, "value": 0xFF00, "valueTwo": 0x0400, "op": "SCMP_CMP_MASKED_EQ"}
        ),
    )

    got = personality_calls(runtime, bundle, probe, 0x0400, 0x0408, 0x0800, 0xFFFFFFFF)

    assert got == [("errno", errno.EUCLEAN), ("errno", errno.EUCLEAN), "ok", "ok"]


def test_two_conditions_on_different_arguments_both_apply(
    runtime: Runtime, bundle: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(bundle, probe_binary)
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {
                "names": ["socket"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EUCLEAN,
                "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},  # AF_UNIX
                    {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"},  # SOCK_DGRAM
                ],
            }
        ],
    }
    seccomp(bundle, profile)
    result = run_in_container(
        runtime, bundle, probe, "sys", "socket", "1", "2", "0", "--",
        "sys", "socket", "1", "1", "0",
    )  # fmt: skip

    statuses = [line.split()[1:] for line in result.stdout.splitlines()]
    assert statuses[0] == ["errno", str(errno.EUCLEAN)], result.stderr
    assert statuses[1][0] == "ok"


def test_syscalls_newer_than_the_profile_get_enosys(
    runtime: Runtime, bundle: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(bundle, probe_binary)
    from tests.integration.security.support import docker_default_profile

    seccomp(bundle, docker_default_profile(bundle))
    # 1000: no syscall has that number yet; a denied known one gets EPERM
    result = run_in_container(runtime, bundle, probe, "sys", "1000", "--", "sys", "kexec_load")

    got = probe_results(result.stdout)
    assert got["sys:1000"] == ("errno", errno.ENOSYS), result.stderr
    assert got["sys:kexec_load"] == ("errno", errno.EPERM)


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["SECCOMP_FILTER_FLAG_LOG"],
        ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    ],
)
def test_filter_flags(runtime: Runtime, bundle: Bundle, flags: list[str]) -> None:
    seccomp(bundle, {**deny_mkdir(), "flags": flags})
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/foo")

    assert result.returncode != 0
    if "Operation not permitted" not in result.stderr:
        # runc 1.1 knows no flags: refusing them is fine, ignoring them would not be
        assert runtime.name != "dockyard", result.stderr
        assert "flags" in result.stderr and runtime.list() == []


def test_without_no_new_privileges_a_non_root_process_is_filtered(
    runtime: Runtime, bundle: Bundle
) -> None:
    # The process will not hold CAP_SYS_ADMIN, and no_new_privs is off: the
    # filter must go in before the runtime gives its capabilities up.
    seccomp(bundle, deny_mkdir(errnoRet=errno.ENETDOWN), no_new_privileges=False)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    result = run_in_container(
        runtime,
        bundle,
        "sh",
        "-c",
        "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/x",
    )

    assert "Network is down" in result.stderr
    assert "Seccomp:\t2" in result.stdout
    assert "NoNewPrivs:\t0" in result.stdout


def test_the_filter_applies_after_exec_only_to_the_container(
    runtime: Runtime, bundle: Bundle
) -> None:
    # A strict profile (no mount, no pivot_root, no sethostname...) must not
    # break the runtime's own setup: it is installed last.
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {
                "names": ["mount", "umount2", "pivot_root", "sethostname", "unshare", "setns",
                          "mkdir", "mkdirat", "mknod", "mknodat", "symlink", "symlinkat",
                          "chroot", "keyctl", "openat2", "mount_setattr", "close_range"],
                "action": "SCMP_ACT_ERRNO",
            }
        ],
    }  # fmt: skip
    seccomp(bundle, profile)
    result = run_in_container(runtime, bundle, "sh", "-c", "hostname; mkdir /dev/shm/x")

    assert result.stdout == "dockyard\n", result.stderr
    assert "Operation not permitted" in result.stderr


def test_an_invalid_profile_is_refused_naming_the_rule(runtime: Runtime, bundle: Bundle) -> None:
    profile = deny_mkdir()
    profile["syscalls"] = [
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["mkdir"], "action": "SCMP_ACT_SOMETIMES"},
    ]
    seccomp(bundle, profile)
    result = run_in_container(runtime, bundle, "true")

    assert result.returncode != 0
    assert "SCMP_ACT_SOMETIMES" in result.stderr
    if runtime.name == "dockyard":
        assert "linux.seccomp.syscalls[3].action" in result.stderr
    assert runtime.list() == []


def test_unknown_syscall_names_are_ignored(runtime: Runtime, bundle: Bundle) -> None:
    profile = deny_mkdir()
    profile["syscalls"][0]["names"] = ["no_such_syscall_anywhere", "mkdir", "mkdirat"]
    seccomp(bundle, profile)
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/foo")

    assert "Operation not permitted" in result.stderr
