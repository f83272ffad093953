"""What a root process of a container may not do under the default spec
(runc's ``spec``, tests/support/bundle.py) with Docker's default seccomp
profile: write the kernel's settings, load modules, mount, reach the keyring,
make namespaces, or see the runtime."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.integration.security.support import (
    add_probe,
    docker_default_profile,
    probe_results,
    seccomp,
)
from tests.support import Bundle, Runtime, requires, run_in_container

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


@pytest.fixture
def hardened(bundle: Bundle) -> Bundle:
    seccomp(bundle, docker_default_profile(bundle))
    return bundle


READ_ONLY = "Read-only file system"
EPERM = "Operation not permitted"
MOUNT_EPERM = "permission denied (are you root?)"  # busybox mount's words for EPERM


def fails(runtime: Runtime, bundle: Bundle, command: str, *errors: str) -> None:
    """``command`` fails, and every error it prints is one of ``errors``: the
    refusal the restriction under test gives, never some other failure (a
    missing file, a bad argument) that would fail even with every privilege."""
    result = run_in_container(runtime, bundle, "sh", "-c", f"{command} && echo SUCCEEDED")

    assert "SUCCEEDED" not in result.stdout, f"{command!r} worked"
    lines = result.stderr.splitlines()
    assert lines, f"{command!r} failed without saying why"
    for line in lines:
        assert any(error in line for error in errors), (command, line)


def host_has(path: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not Path(path).exists(), reason=f"this kernel has no {path}")


@pytest.mark.parametrize(
    ("command", "errors"),
    [
        ("echo x > /proc/sys/kernel/core_pattern", (READ_ONLY,)),
        ("echo dockyard-test > /proc/sys/kernel/hostname", (READ_ONLY,)),
        ("sysctl -w kernel.panic=1", (READ_ONLY,)),
        ("sysctl -w vm.drop_caches=1", (READ_ONLY,)),
        pytest.param(
            "echo 1 > /proc/sys/kernel/sysrq",
            (READ_ONLY,),
            marks=host_has("/proc/sys/kernel/sysrq"),
        ),
        pytest.param(
            "echo b > /proc/sysrq-trigger", (READ_ONLY,), marks=host_has("/proc/sysrq-trigger")
        ),
        ("echo 1 > /sys/kernel/mm/ksm/run", (READ_ONLY,)),
        ("echo 1 > /sys/bus/pci/rescan", (READ_ONLY,)),
        # runc's cgroup mount refuses with EACCES where ours is read-only.
        (
            "echo x > /sys/fs/cgroup/cgroup.procs || echo x > /sys/fs/cgroup/devices/devices.allow",
            (READ_ONLY, "Permission denied"),
        ),
        (
            "mkdir /sys/fs/cgroup/escape || mkdir /sys/fs/cgroup/memory/escape",
            (READ_ONLY, "Permission denied"),
        ),
    ],
)
def test_kernel_settings_are_read_only(
    runtime: Runtime, hardened: Bundle, command: str, errors: tuple[str, ...]
) -> None:
    fails(runtime, hardened, command, *errors)


@pytest.mark.parametrize(
    ("command", "errors"),
    [
        ("mount -t tmpfs tmpfs /tmp", (MOUNT_EPERM,)),
        ("mount -t proc proc /tmp", (MOUNT_EPERM,)),
        ("mount --bind / /tmp", (MOUNT_EPERM,)),
        ("umount /proc/keys", (EPERM,)),  # a masked path: unmasking it is refused
        ("umount -l /sys", (EPERM,)),
        ("unshare -m true", (EPERM,)),
        ("unshare -U true", (EPERM,)),
        # A module of zeros: with CAP_SYS_MODULE and no seccomp the kernel would
        # read it and call it malformed; refused, it is never looked at.
        ("head -c 64 /dev/zero > /dev/shm/m.ko && insmod /dev/shm/m.ko", (EPERM,)),
        ("rmmod loop", (EPERM,)),
        ("chroot / true", (EPERM,)),
        ("hostname escaped", (EPERM,)),
    ],
)
def test_privileged_operations_fail(
    runtime: Runtime, hardened: Bundle, command: str, errors: tuple[str, ...]
) -> None:
    fails(runtime, hardened, command, *errors)


def test_syscalls_of_the_attack_surface_are_refused(
    runtime: Runtime, hardened: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(hardened, probe_binary)
    calls = {
        "init_module": ["0", "0", "s:"],
        "finit_module": ["0", "s:", "0"],
        "delete_module": ["s:loop", "0"],
        "kexec_load": ["0", "0", "0", "0"],
        "keyctl": ["0", "0"],  # KEYCTL_GET_KEYRING_ID
        "add_key": ["s:user", "s:dockyard", "s:x", "1", "0xfffffffd"],
        "request_key": ["s:user", "s:dockyard", "0", "0"],
        "unshare": ["0x10000000"],  # CLONE_NEWUSER
        "mount": ["s:none", "s:/tmp", "s:tmpfs", "0", "0"],
        "bpf": ["0", "0", "0"],
        "open_by_handle_at": ["3", "0", "0"],
        "reboot": ["0xfee1dead", "672274793", "0x4321fedc", "0"],
        "swapon": ["s:/tmp/swap", "0"],
        "syslog": ["3", "0", "0"],
        "setns": ["0", "0"],
    }
    argv: list[str] = []
    for name, args in calls.items():
        argv += ["sys", name, *args, "--"]
    result = run_in_container(runtime, hardened, probe, *argv[:-1])

    got = probe_results(result.stdout)
    for name in calls:
        assert got.get(f"sys:{name}") == ("errno", errno.EPERM), (name, result.stdout)


def ptrace_scope() -> int:
    """Yama's ptrace_scope on this host; 0 (classic rules) without Yama."""
    path = Path("/proc/sys/kernel/yama/ptrace_scope")
    return int(path.read_text()) if path.exists() else 0


def test_ptrace_cannot_reach_outside_the_container(
    runtime: Runtime, hardened: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(hardened, probe_binary)
    # A pid of the host's (this test's own) names nothing in the container's
    # pid namespace; pid 1 there is the container's own shell, the probe's
    # parent (the final "true" keeps sh from exec'ing the probe as pid 1).
    script = f"ls -d /proc/[0-9]* | wc -l; {probe} ptrace_attach {os.getpid()}; "
    script += f"{probe} ptrace_attach 1; true"
    result = run_in_container(runtime, hardened, "sh", "-c", script)

    lines = result.stdout.splitlines()
    assert int(lines[0]) <= 3, result.stdout  # sh, ls/wc: nothing of the host's
    assert probe_results(lines[1]) == {"ptrace_attach": ("errno", errno.ESRCH)}, result.stdout
    # Inside, the kernel's own rules: the same user and capabilities may attach
    # to its parent unless Yama restricts ptrace to descendants (or more).
    inside = ("ok", 0) if ptrace_scope() == 0 else ("errno", errno.EPERM)
    assert probe_results(lines[2]) == {"ptrace_attach": inside}, result.stdout


def test_the_process_has_no_new_privileges_and_few_capabilities(
    runtime: Runtime, hardened: Bundle
) -> None:
    result = run_in_container(
        runtime,
        hardened,
        "sh",
        "-c",
        "grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status",
    )

    status = dict(line.split(":\t") for line in result.stdout.splitlines())
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"
    # CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10)
    expected = f"{(1 << 29) | (1 << 5) | (1 << 10):016x}"
    assert status["CapEff"] == expected
    assert status["CapBnd"] == expected
