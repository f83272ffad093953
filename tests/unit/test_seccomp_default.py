"""Docker's default seccomp profile: which rules a container gets, and what they decide."""

from __future__ import annotations

import errno
import os
from typing import Any

import pytest

from dockyard.oci.seccomp import parse_seccomp
from dockyard.runtime.seccomp_default import ALLOWED, RULES, default_seccomp, kernel_version
from tests.unit import bpf

RUNC_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
DOCKER_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]  # fmt: skip


def allowed_names(profile: dict[str, Any]) -> set[str]:
    return {
        name
        for rule in profile["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for name in rule["names"]
    }


def rules_for(profile: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [rule for rule in profile["syscalls"] if name in rule["names"]]


def test_the_shape_of_the_profile() -> None:
    profile = default_seccomp(DOCKER_CAPS, arch="amd64", kernel=(6, 1))

    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["defaultErrnoRet"] == errno.EPERM
    assert profile["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert len(ALLOWED) == len(set(ALLOWED)) > 350
    assert parse_seccomp(profile) is not None


def test_dangerous_syscalls_need_their_capability() -> None:
    plain = allowed_names(default_seccomp(DOCKER_CAPS, arch="amd64", kernel=(6, 1)))
    admin = allowed_names(default_seccomp([*DOCKER_CAPS, "CAP_SYS_ADMIN"], "amd64", (6, 1)))

    for name in ("mount", "umount2", "unshare", "setns", "bpf", "fsopen", "sethostname"):
        assert name not in plain and name in admin
    for name in ("init_module", "finit_module", "kexec_load", "keyctl", "add_key", "reboot"):
        assert name not in plain
    assert "chroot" in plain  # Docker's set has CAP_SYS_CHROOT
    assert "chroot" not in allowed_names(default_seccomp(RUNC_CAPS, "amd64", (6, 1)))
    assert "init_module" in allowed_names(default_seccomp(["CAP_SYS_MODULE"], "amd64", (6, 1)))


def test_clone_and_clone3_without_cap_sys_admin() -> None:
    plain = default_seccomp(DOCKER_CAPS, arch="amd64", kernel=(6, 1))
    admin = default_seccomp(["CAP_SYS_ADMIN"], arch="amd64", kernel=(6, 1))

    [clone] = rules_for(plain, "clone")
    assert clone["args"] == [{"index": 0, "value": 0x7E020000, "op": "SCMP_CMP_MASKED_EQ"}]
    [clone3] = rules_for(plain, "clone3")
    assert (clone3["action"], clone3["errnoRet"]) == ("SCMP_ACT_ERRNO", errno.ENOSYS)
    assert all(not r.get("args") and r["action"] == "SCMP_ACT_ALLOW"
               for r in rules_for(admin, "clone") + rules_for(admin, "clone3"))  # fmt: skip
    [s390_clone] = rules_for(default_seccomp([], arch="s390x", kernel=(6, 1)), "clone")
    assert s390_clone["args"][0]["index"] == 1  # s390 passes the flags second


def test_arch_and_kernel_conditions() -> None:
    arm = default_seccomp([], arch="arm64", kernel=(6, 1))
    amd = default_seccomp([], arch="amd64", kernel=(6, 1))

    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "set_tls" in allowed_names(arm) and "set_tls" not in allowed_names(amd)
    assert "arch_prctl" in allowed_names(amd) and "arch_prctl" not in allowed_names(arm)
    assert "architectures" not in default_seccomp([], arch="ppc64le", kernel=(6, 1))
    assert "ptrace" in allowed_names(amd)
    assert "ptrace" not in allowed_names(default_seccomp([], arch="amd64", kernel=(4, 4)))
    assert kernel_version() >= (3, 0)


def test_every_rule_is_well_formed() -> None:
    for rule in RULES:
        assert rule.names and all(isinstance(n, str) and n for n in rule.names)
        for index, op, _ in rule.args:
            assert 0 <= index < 6 and op.startswith("SCMP_CMP_")


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers are x86_64's")
def test_what_the_compiled_profile_decides() -> None:
    lib = pytest.importorskip("dockyard.linux.seccomp")
    try:
        lib.load_library()
    except OSError as exc:
        pytest.skip(f"libseccomp is not available: {exc}")
    from dockyard.runtime.seccomp import compile_bpf

    seccomp = parse_seccomp(default_seccomp(RUNC_CAPS))
    assert seccomp is not None
    prog = compile_bpf(seccomp)
    eperm = bpf.RET_ERRNO | errno.EPERM
    x86 = bpf.AUDIT_ARCH_X86_64
    checks = [
        ("getpid", 39, (), bpf.RET_ALLOW),
        ("mount", 165, (), eperm),
        ("unshare", 272, (0x10000000,), eperm),
        ("init_module", 175, (), eperm),
        ("finit_module", 313, (), eperm),
        ("keyctl", 250, (), eperm),
        ("add_key", 248, (), eperm),
        ("kexec_load", 246, (), eperm),
        ("clone(SIGCHLD)", 56, (17,), bpf.RET_ALLOW),
        ("clone(CLONE_NEWUSER)", 56, (0x10000000 | 17,), eperm),
        ("clone(CLONE_NEWNS)", 56, (0x00020000,), eperm),
        ("clone3", 435, (), bpf.RET_ERRNO | errno.ENOSYS),
        ("socket(AF_INET)", 41, (2,), bpf.RET_ALLOW),
        ("socket(AF_VSOCK)", 41, (40,), eperm),
        ("socket(AF_ALG)", 41, (38,), eperm),
        ("personality(query)", 135, (0xFFFFFFFF,), bpf.RET_ALLOW),
        ("personality(READ_IMPLIES_EXEC)", 135, (0x0400000,), eperm),
        ("ptrace", 101, (), bpf.RET_ALLOW),  # safe since 4.8; CAP_SYS_PTRACE guards the rest
        ("a syscall newer than the profile", 999, (), bpf.RET_ERRNO | errno.ENOSYS),
    ]
    for what, nr, args, expected in checks:
        assert bpf.run(prog, x86, nr, args) == expected, what
    assert bpf.run(prog, bpf.AUDIT_ARCH_I386, 20) == bpf.RET_ALLOW  # i386 getpid
