"""OCI bundles for tests: a busybox rootfs and a config.json made in Python.

`default_config` is what ``runc spec`` writes (runc's
``libcontainer/specconv/example.go``), made here rather than by shelling out
to a runtime so that the runtime under test cannot shape its own input. The
differences: ``terminal`` is false (tests have no tty), the hostname is
"dockyard", ociVersion is 1.2.0, and a cgroup namespace is always requested
(runc adds one only on cgroup v2 hosts).

``python -m tests.support.make_bundle`` makes one from the command line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.rootfs import build_rootfs, copy_rootfs

OCI_VERSION = "1.2.0"

# runc spec's capability set; Docker's wider default (14 caps) is the
# engine's business, not the runtime's.
DEFAULT_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

MASKED_PATHS = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/tpm",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


def _mount(destination: str, type_: str, source: str, *options: str) -> dict[str, Any]:
    mount: dict[str, Any] = {"destination": destination, "type": type_, "source": source}
    if options:
        mount["options"] = list(options)
    return mount


def default_mounts() -> list[dict[str, Any]]:
    return [
        _mount("/proc", "proc", "proc"),
        _mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
        _mount(
            "/dev/pts",
            "devpts",
            "devpts",
            *("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
        ),
        _mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
        _mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        _mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        _mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro"),
    ]


def default_config() -> dict[str, Any]:
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPABILITIES),
                "effective": list(DEFAULT_CAPABILITIES),
                "permitted": list(DEFAULT_CAPABILITIES),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "dockyard",
        "mounts": default_mounts(),
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [
                {"type": ns} for ns in ("pid", "network", "ipc", "uts", "mount", "cgroup")
            ],
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
    }


@dataclass
class Bundle:
    """A bundle directory; edit ``config`` and call `write` before using it."""

    path: Path
    config: dict[str, Any] = field(default_factory=default_config)

    @classmethod
    def create(cls, path: Path, rootfs_source: Path | None = None) -> Bundle:
        """Make a bundle at ``path``, copying ``rootfs_source`` or building a rootfs."""
        path.mkdir(parents=True, exist_ok=True)
        rootfs = path / "rootfs"
        if rootfs_source is None:
            build_rootfs(rootfs)
        else:
            copy_rootfs(rootfs_source, rootfs)
        bundle = cls(path)
        bundle.write()
        return bundle

    @property
    def rootfs(self) -> Path:
        return self.path / self.config["root"]["path"]

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def process(self) -> dict[str, Any]:
        process: dict[str, Any] = self.config["process"]
        return process

    def write(self) -> Path:
        self.config_path.write_text(json.dumps(self.config, indent=2) + "\n")
        return self.config_path


# The ``make_bundle`` fixture: make_bundle(name="bundle") -> Bundle
MakeBundle = Callable[..., Bundle]
