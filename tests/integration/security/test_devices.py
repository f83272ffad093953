"""Devices outside linux.resources.devices are out of reach, even as a node the
image brings along: the devices cgroup (v1) or its BPF program (v2) refuses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

# Devices every host has, none of them in the default allow list.
CANDIDATES = [("/dev/loop0", stat.S_IFBLK), ("/dev/fuse", stat.S_IFCHR),
              ("/dev/net/tun", stat.S_IFCHR), ("/dev/kmsg", stat.S_IFCHR)]  # fmt: skip


def host_device() -> tuple[str, int, int]:
    for path, kind in CANDIDATES:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if stat.S_IFMT(st.st_mode) == kind:
            return path, kind, st.st_rdev
    pytest.skip(f"none of {', '.join(p for p, _ in CANDIDATES)} exists on this host")


def devices_cgroup(pid: int | str) -> str | None:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "devices" in controllers.split(",") or controllers == "":
            return path
    return None


def test_a_device_node_in_the_image_cannot_be_opened(runtime: Runtime, bundle: Bundle) -> None:
    if os.statvfs(bundle.rootfs).f_flag & os.ST_NODEV:
        pytest.skip(
            "the rootfs is on a nodev filesystem (the cgroup v2 guest's /tmp): the kernel "
            "refuses every device node there before the device rules are asked"
        )
    path, kind, rdev = host_device()
    os.mknod(bundle.rootfs / "smuggled", kind | 0o666, rdev)
    script = "exec 3</smuggled && echo OPENED-READ; exec 4>/smuggled && echo OPENED-WRITE; true"
    bundle.process["args"] = ["sh", "-c", script]
    bundle.config["root"]["readonly"] = False
    bundle.write()
    container = runtime.create(bundle)
    pid = runtime.state(container)["pid"]
    placed = devices_cgroup(pid) != devices_cgroup("self")
    runtime.start(container)
    runtime.wait_for_status(container, "stopped")
    runtime.delete(container)
    # create's output is gone with its command; run it again to read it.
    result = runtime.run(bundle)

    assert placed, "the container is not in a devices cgroup of its own"
    assert "OPENED" not in result.stdout, f"{path} ({os.major(rdev)}:{os.minor(rdev)}) opened"
    assert "Operation not permitted" in result.stderr


def test_an_allowed_device_opens(runtime: Runtime, bundle: Bundle) -> None:
    bundle.process["args"] = ["sh", "-c", "exec 3</dev/null 4>/dev/zero && echo OPENED"]
    bundle.write()
    result = runtime.run(bundle)

    assert result.stdout == "OPENED\n", result.stderr
