"""Capability names and the order in which a process gives them up."""

from __future__ import annotations

import errno

from dockyard.errors import InvalidSpec
from dockyard.linux import init_calls, libc

#: capability numbers, from linux/capability.h
CAPABILITIES = {
    name: number
    for number, name in enumerate(
        (
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_FSETID",
            "CAP_KILL",
            "CAP_SETGID",
            "CAP_SETUID",
            "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN",
            "CAP_NET_RAW",
            "CAP_IPC_LOCK",
            "CAP_IPC_OWNER",
            "CAP_SYS_MODULE",
            "CAP_SYS_RAWIO",
            "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT",
            "CAP_SYS_ADMIN",
            "CAP_SYS_BOOT",
            "CAP_SYS_NICE",
            "CAP_SYS_RESOURCE",
            "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG",
            "CAP_MKNOD",
            "CAP_LEASE",
            "CAP_AUDIT_WRITE",
            "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP",
            "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN",
            "CAP_SYSLOG",
            "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND",
            "CAP_AUDIT_READ",
            "CAP_PERFMON",
            "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE",
        )
    )
}


def last_cap() -> int:
    """The highest capability this kernel knows."""
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except OSError:
        return max(CAPABILITIES.values())


def mask_of(names: list[str], field: str) -> int:
    """Bit mask of capability names; an unknown name is an InvalidSpec naming it
    (``process.capabilities.bounding[2]``), never silently dropped."""
    mask = 0
    for index, name in enumerate(names):
        number = CAPABILITIES.get(name.upper())
        if number is None:
            raise InvalidSpec(
                f"{field}[{index}]", f"unknown capability {name!r} (see capabilities(7))"
            )
        mask |= 1 << number
    return mask


def drop_bounding(keep: int) -> None:
    """Drop every capability not in ``keep`` from the bounding set (needs CAP_SETPCAP)."""
    calls = init_calls.current
    for number in range(last_cap() + 1):
        if not keep & (1 << number):
            try:
                calls.prctl(libc.PR_CAPBSET_DROP, number)
            except OSError as exc:
                if exc.errno != errno.EINVAL:  # the kernel does not know this one
                    raise


def apply(effective: int, permitted: int, inheritable: int, ambient: int) -> None:
    """Set the thread's sets; ambient ones must be permitted and inheritable."""
    calls = init_calls.current
    calls.capset(effective, permitted, inheritable)
    calls.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_CLEAR_ALL)
    for number in range(64):
        if ambient & (1 << number) and permitted & inheritable & (1 << number):
            calls.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_RAISE, number)
