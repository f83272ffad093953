"""What a root process of a container may not do under the default spec
(runc's ``spec``, tests/support/bundle.py) with Docker's default seccomp
profile: write the kernel's settings, load modules, mount, reach the keyring,
make namespaces, or see the runtime."""

from __future__ import annotations

import errno
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


def fails(runtime: Runtime, bundle: Bundle, command: str) -> str:
    result = run_in_container(runtime, bundle, "sh", "-c", f"{command} && echo SUCCEEDED")
    assert "SUCCEEDED" not in result.stdout, f"{command!r} worked"
    return result.stderr


@pytest.mark.parametrize(
    "command",
    [
        "echo 1 > /proc/sys/kernel/sysrq",
        "echo dockyard-test > /proc/sys/kernel/hostname",
        "sysctl -w kernel.panic=1",
        "sysctl -w vm.drop_caches=1",
        "echo b > /proc/sysrq-trigger",
        "echo 1 > /sys/kernel/mm/ksm/run",
        "echo 1 > /sys/bus/pci/rescan",
        "echo x > /sys/fs/cgroup/cgroup.procs || echo x > /sys/fs/cgroup/devices/devices.allow",
        "mkdir /sys/fs/cgroup/escape || mkdir /sys/fs/cgroup/memory/escape",
    ],
)
def test_kernel_settings_are_read_only(runtime: Runtime, hardened: Bundle, command: str) -> None:
    fails(runtime, hardened, command)


@pytest.mark.parametrize(
    "command",
    [
        "mount -t tmpfs tmpfs /tmp",
        "mount -t proc proc /tmp",
        "mount --bind / /tmp",
        "umount /proc/kcore",
        "umount -l /sys",
        "unshare -m true",
        "unshare -U true",
        "insmod /dev/null",
        "rmmod loop",
        "chroot / true",
        "hostname escaped",
    ],
)
def test_privileged_operations_fail(runtime: Runtime, hardened: Bundle, command: str) -> None:
    fails(runtime, hardened, command)


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


def test_ptrace_cannot_reach_outside_the_container(
    runtime: Runtime, hardened: Bundle, probe_binary: Path
) -> None:
    probe = add_probe(hardened, probe_binary)
    # Only the container's own processes are there to see, the runtime is not.
    script = f"ls -d /proc/[0-9]* | wc -l; {probe} ptrace_attach 1"
    result = run_in_container(runtime, hardened, "sh", "-c", script)

    lines = result.stdout.splitlines()
    assert int(lines[0]) <= 3, result.stdout  # sh, ls/wc: nothing of the host's
    # pid 1 is the container's own shell: attaching to it is up to the kernel,
    # not a way out; with no CAP_SYS_PTRACE a parent is the most it can reach.
    assert lines[-1].startswith("ptrace_attach"), result.stdout


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
