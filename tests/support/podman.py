"""podman over a throwaway store: a reference engine for the tests.

`Podman` keeps everything under one directory: the vfs driver, file locks
instead of the host-wide shared-memory ones, a file events log, cgroupfs,
and its config, temp files and network config. ``clean_up`` kills and
unmounts what is left and removes it all. With ``runtime`` set, podman
drives that OCI runtime instead of its default (through conmon, as it
would runc).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support import leaks

PODMAN = shutil.which("podman")


class Podman:
    """The ``podman`` CLI over a store, config and temp dir that are all under ``base``."""

    def __init__(self, base: Path, runtime: str | None = None) -> None:
        self.base = base
        self.runtime = runtime
        self.root = base / "root"
        self.runroot = base / "run"
        self.tmp = base / "tmp"
        self.net = base / "net"
        for d in (self.root, self.runroot, self.tmp, self.net):
            d.mkdir(parents=True)
        (base / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\nrunroot = "{self.runroot}"\ngraphroot = "{self.root}"\n'
        )
        (base / "containers.conf").write_text(
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            'lock_type = "file"\n'
            f'image_copy_tmp_dir = "{self.tmp}"\n'
        )
        self.env = {
            **os.environ,
            "CONTAINERS_STORAGE_CONF": str(base / "storage.conf"),
            "CONTAINERS_CONF": str(base / "containers.conf"),
            "TMPDIR": str(self.tmp),
        }

    def run(self, *args: str, check: bool = True) -> str:
        return self.call(*args, check=check).stdout

    def call(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [
            str(PODMAN),
            "--root",
            str(self.root),
            "--runroot",
            str(self.runroot),
            "--tmpdir",
            str(self.runroot / "libpod"),
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "file",
            "--network-config-dir",
            str(self.net),
            *(["--runtime", self.runtime] if self.runtime else []),
            *args,
        ]
        proc = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
            )
        return proc

    def inspect_container(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.run("container", "inspect", name))[0]
        return info

    def inspect(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.run("image", "inspect", name))[0]
        return info

    def read(self, name: str, path: str) -> bytes | None:
        """A file of the image's root filesystem, as podman assembled it (None if absent)."""
        root = Path(self.run("image", "mount", name).strip())
        try:
            target = root / path
            return target.read_bytes() if target.exists() else None
        finally:
            self.run("image", "unmount", name)

    def clean_up(self) -> list[str]:
        """Kill, unmount and remove everything under ``base``; what was left running."""
        processes = leaks.processes_mentioning(
            f"{self.base}/", exclude=leaks.ancestors(os.getpid())
        )
        mounts = leaks.mounts_under(self.base)
        leaks.kill_processes(processes)
        leaks.unmount(mounts)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.base)], check=False)
        return [f"podman process (killed): {p}" for p in processes.values()] + [
            f"mount (detached): {m}" for m in mounts
        ]
