"""Docker's defaults for a container's runtime spec, as data.

What ``docker run`` gives a container when asked for nothing else (moby's
``oci/defaults.go`` and ``daemon/oci_linux.go``, read for behaviour, written
in our own shape): fourteen capabilities, the standard mounts, masked and
read-only /proc and /sys paths, a device cgroup that allows only the
standard devices, two network sysctls, and the default seccomp profile
(runtime/seccomp_default.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_CAPABILITIES = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

MASKED_PATHS = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: Docker's RLIMIT_NOFILE as its packaged daemon hands it on (and Podman sets as root)
DEFAULT_NOFILE = 1048576

#: (type, major, minor) allowed "rwm" besides the deny-all rule: null, zero, full,
#: random, urandom, tty, console, ptmx, the ptys, tun
DEFAULT_DEVICE_RULES: tuple[tuple[str, int | None, int | None], ...] = (
    ("c", 1, 3),
    ("c", 1, 5),
    ("c", 1, 7),
    ("c", 1, 8),
    ("c", 1, 9),
    ("c", 5, 0),
    ("c", 5, 1),
    ("c", 5, 2),
    ("c", 136, None),
    ("c", 10, 200),
)

#: what Docker sets in a container's own network namespace: binding low
#: ports and ping need no privilege inside it
NETWORK_SYSCTLS = {
    "net.ipv4.ip_unprivileged_port_start": "0",
    "net.ipv4.ping_group_range": "0 2147483647",
}


def device_rules(privileged: bool) -> list[dict[str, Any]]:
    if privileged:
        return [{"allow": True, "access": "rwm"}]
    rules: list[dict[str, Any]] = [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "c", "access": "m"},
        {"allow": True, "type": "b", "access": "m"},
    ]
    for kind, major, minor in DEFAULT_DEVICE_RULES:
        rule: dict[str, Any] = {"allow": True, "type": kind, "major": major, "access": "rwm"}
        if minor is not None:
            rule["minor"] = minor
        rules.append(rule)
    return rules


def standard_mounts(
    privileged: bool, shm_size: int, ipc_mode: str, shm_source: str = ""
) -> list[dict[str, Any]]:
    """/proc, /dev, /dev/pts, /sys, the cgroup tree, /dev/mqueue and /dev/shm: a tmpfs of
    its own, or bound from ``shm_source`` (the host's, a shareable container's; see
    engine/ipc.py), or none with ``--ipc none`` (Docker's: no /dev/shm at all)."""
    ro = [] if privileged else ["ro"]
    mounts: list[dict[str, Any]] = [
        {
            "destination": "/proc",
            "type": "proc",
            "source": "proc",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": [*ro, "nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": [*ro, "nosuid", "noexec", "nodev", "relatime"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
    ]
    if ipc_mode == "host" or (shm_source and ipc_mode != "none"):
        mounts.append(
            {
                "destination": "/dev/shm",
                "type": "bind",
                "source": shm_source or "/dev/shm",
                "options": ["rbind", "rprivate"],
            }
        )
    elif ipc_mode != "none":
        mounts.append(
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"],
            }
        )
    return mounts
