"""Real-world seccomp profiles run containers, with no_new_privileges on and off.

A profile is written for runc: after the filter is in place the runtime may
make only the calls runc's init makes there, or a profile runc runs under
breaks every container. The profiles here: a strict one (what busybox
``true`` needs and what runc's init makes after its filter, nothing else),
Docker's default without each syscall runc never needs, an older Docker
default (before close_range and the other calls since Linux 5.1), Podman's
own profile, and KILL, KILL_PROCESS or TRAP on execveat. With
no_new_privileges the filter is the last step before exec; without it,
it goes in before the capabilities go (runc's order), which is when the
runtime's later calls meet it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.security.support import docker_default_profile, seccomp
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

NNP = pytest.mark.parametrize("no_new_privileges", [True, False], ids=["nnp", "no-nnp"])

#: what static busybox's ``true`` calls (strace), from execve to exit
_BUSYBOX_TRUE = """
    execve brk arch_prctl set_tid_address set_robust_list rseq prlimit64 readlink
    getrandom mprotect prctl getuid getgid setgid setuid newfstatat exit_group
"""
#: what runc 1.1's init calls after installing its filter, without
#: no_new_privs (the later of its two places), and its Go runtime's calls
_RUNC_AFTER_FILTER = """
    openat read write close fstat newfstatat fstatfs getdents64 fcntl chdir getcwd
    capget capset prctl setgroups setgid setuid fchown faccessat2 getpid getppid
    epoll_ctl epoll_pwait futex nanosleep sched_yield mmap munmap madvise
    rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack gettid tgkill exit
"""
BUSYBOX_TRUE = _BUSYBOX_TRUE.split()
RUNC_AFTER_FILTER = _RUNC_AFTER_FILTER.split()
STRICT = {
    "defaultAction": "SCMP_ACT_ERRNO",
    "syscalls": [
        {"names": sorted(set(BUSYBOX_TRUE + RUNC_AFTER_FILTER)), "action": "SCMP_ACT_ALLOW"}
    ],
}

#: in Docker's default, and made by an older runtime after its filter, but
#: never by runc's init there: a profile may lack each of them
NEVER_NEEDED = ["close_range", "access", "setresuid", "setresgid", "execveat"]

#: the last syscall of Linux 5.1 (x86_64), the newest an older Docker default
#: (19.03) knows: close_range, openat2, faccessat2, clone3... came after it
PIDFD_SEND_SIGNAL = 424
PODMAN_PROFILE = Path("/usr/share/containers/seccomp.json")


def without(profile: dict[str, Any], *names: str) -> dict[str, Any]:
    """``profile`` with ``names`` taken out of every rule (a rule left empty goes)."""
    rules = []
    for rule in profile["syscalls"]:
        kept = [name for name in rule["names"] if name not in names]
        if kept:
            rules.append({**rule, "names": kept})
    return {**profile, "syscalls": rules}


def older_docker_profile(bundle: Bundle) -> dict[str, Any]:
    """Docker's default as it was before Linux 5.2's syscalls: nothing newer
    than pidfd_send_signal."""
    from dockyard.linux import seccomp as libseccomp

    libseccomp.load_library()
    profile = docker_default_profile(bundle)
    names = {name for rule in profile["syscalls"] for name in rule["names"]}
    newer = [name for name in names if libseccomp.resolve_syscall(name) > PIDFD_SEND_SIGNAL]
    assert "close_range" in newer and "faccessat2" in newer
    return without(profile, *newer)


def podman_profile(bundle: Bundle) -> dict[str, Any]:
    """containers-common's seccomp.json as Podman applies it: the rules whose
    capability and architecture conditions this container meets."""
    raw = json.loads(PODMAN_PROFILE.read_text())
    caps = set(bundle.process["capabilities"]["bounding"])
    arches = next(a for a in raw["archMap"] if a["architecture"] == "SCMP_ARCH_X86_64")
    rules = []
    for rule in raw["syscalls"]:
        includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
        if "arches" in includes and "amd64" not in includes["arches"]:
            continue
        if not set(includes.get("caps") or ()) <= caps:
            continue
        if set(excludes.get("caps") or ()) & caps:
            continue
        keys = ("names", "action", "args", "errnoRet")
        rules.append({key: rule[key] for key in keys if rule.get(key) is not None})
    return {
        "defaultAction": raw["defaultAction"],
        "defaultErrnoRet": raw["defaultErrnoRet"],
        "architectures": [arches["architecture"], *arches["subArchitectures"]],
        "syscalls": rules,
    }


def runs_filtered(runtime: Runtime, bundle: Bundle) -> None:
    """The container's shell runs under the filter (Seccomp: 2) and exits 0."""
    result = run_in_container(
        runtime, bundle, "sh", "-c", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"
    )
    assert result.returncode == 0, result.stderr
    assert "Seccomp:\t2" in result.stdout, result.stdout


@NNP
def test_a_strict_profile_runs_true(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool
) -> None:
    seccomp(bundle, STRICT, no_new_privileges)
    result = run_in_container(runtime, bundle, "true")

    assert (result.returncode, result.stderr) == (0, "")


@NNP
def test_a_strict_profile_is_in_force(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool
) -> None:
    # What the strict profile leaves out fails in the container: the filter
    # that let the runtime through is the one the program meets.
    seccomp(bundle, STRICT, no_new_privileges)
    result = run_in_container(runtime, bundle, "mkdir", "/dev/shm/x")

    assert result.returncode != 0
    assert "Operation not permitted" in result.stderr


@NNP
@pytest.mark.parametrize("missing", NEVER_NEEDED)
def test_docker_default_without_a_call_runc_never_needs(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool, missing: str
) -> None:
    seccomp(bundle, without(docker_default_profile(bundle), missing), no_new_privileges)
    runs_filtered(runtime, bundle)


@NNP
def test_an_older_docker_default_without_close_range(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool
) -> None:
    seccomp(bundle, older_docker_profile(bundle), no_new_privileges)
    runs_filtered(runtime, bundle)


@NNP
@pytest.mark.skipif(
    not PODMAN_PROFILE.exists(), reason=f"needs {PODMAN_PROFILE} (containers-common)"
)
def test_podmans_profile(runtime: Runtime, bundle: Bundle, no_new_privileges: bool) -> None:
    seccomp(bundle, podman_profile(bundle), no_new_privileges)
    runs_filtered(runtime, bundle)


@NNP
@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_a_killing_rule_on_execveat_leaves_the_start_alone(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool, action: str
) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["execveat"], "action": action}],
    }
    seccomp(bundle, profile, no_new_privileges)
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    result = run_in_container(runtime, bundle, "sh", "-c", "echo started")

    assert (result.returncode, result.stdout) == (0, "started\n"), result.stderr


@NNP
def test_killing_by_default_leaves_the_start_alone(
    runtime: Runtime, bundle: Bundle, no_new_privileges: bool
) -> None:
    # The strict profile, but what it does not list kills instead of failing.
    seccomp(bundle, {**STRICT, "defaultAction": "SCMP_ACT_KILL_PROCESS"}, no_new_privileges)
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    result = run_in_container(runtime, bundle, "true")

    assert (result.returncode, result.stderr) == (0, "")


#: a call the runtime makes after the filter without no_new_privs, and what
#: the error must name (dockyard: "groups", "uid", "gid", "capabilities";
#: runc: "setgroups", "setup user", "apply caps")
REFUSED_STEPS = {"setgroups": "groups", "setuid": "uid|user", "setgid": "gid|user", "capset": "cap"}


@pytest.mark.parametrize("call", sorted(REFUSED_STEPS))
def test_a_step_the_profile_refuses_is_named(runtime: Runtime, bundle: Bundle, call: str) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": [call], "action": "SCMP_ACT_ERRNO"}],
    }
    seccomp(bundle, profile, no_new_privileges=False)
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    result = run_in_container(runtime, bundle, "true")

    assert result.returncode != 0
    assert "operation not permitted" in result.stderr.lower(), result.stderr
    assert re.search(REFUSED_STEPS[call], result.stderr), result.stderr
    assert runtime.list() == []


def test_a_step_the_profile_kills_fails_the_start(runtime: Runtime, bundle: Bundle) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["setgroups"], "action": "SCMP_ACT_KILL_PROCESS"}],
    }
    seccomp(bundle, profile, no_new_privileges=False)
    bundle.process["rlimits"] = [{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    result = run_in_container(runtime, bundle, "true")

    assert result.returncode != 0
    assert runtime.list() == []
    if runtime.name == "dockyard":  # runc only says "container process is already dead"
        assert "SIGSYS" in result.stderr and "seccomp" in result.stderr, result.stderr
