"""The cgroup v2 device filter for real on this host: an eBPF program loaded and
attached with bpf(2) (linux/bpf.py) to a directory of a cgroup2 mount, and a
process in that cgroup that the kernel stops at the devices it denies.

A hybrid host (v1 controllers) still has an empty cgroup2 at
/sys/fs/cgroup/unified, and device programs work there: the kernel runs them
for every process of the cgroup whatever controllers the hierarchy has.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.cgroups.devices import parse_rules
from dockyard.cgroups.v2 import devices as v2devices
from dockyard.linux import bpf
from tests.support import requires

pytestmark = [pytest.mark.integration, requires("root")]


def cgroup2_root() -> Path | None:
    for candidate in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        if (candidate / "cgroup.controllers").exists():
            return candidate
    return None


@pytest.fixture
def cgroup2_dir() -> Iterator[Path]:
    root = cgroup2_root()
    if root is None:
        pytest.skip("no cgroup2 mount on this host")
    directory = root / f"dockyard-test-bpf-{secrets.token_hex(4)}"
    directory.mkdir()
    try:
        yield directory
    finally:
        for pid in (directory / "cgroup.procs").read_text().split():
            os.kill(int(pid), 9)
        directory.rmdir()


def attached(directory: Path) -> list[int]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bpf.prog_query(fd, bpf.BPF_CGROUP_DEVICE)
    finally:
        os.close(fd)


def open_devices_inside(directory: Path) -> list[str]:
    """Try /dev/null and /dev/zero from a shell inside the cgroup; what each did."""
    script = (
        "for d in null zero; do if ( : < /dev/$d ) 2>/dev/null; "
        "then echo $d:open; else echo $d:denied; fi; done"
    )

    def enter() -> None:
        with open(directory / "cgroup.procs", "w") as f:
            f.write("0")

    result = subprocess.run(
        ["/bin/sh", "-c", script], preexec_fn=enter, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_the_filter_denies_what_the_rules_deny(cgroup2_dir: Path) -> None:
    only_null = parse_rules(
        [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        ]
    )

    v2devices.set(str(cgroup2_dir), only_null)

    assert len(attached(cgroup2_dir)) == 1
    assert open_devices_inside(cgroup2_dir) == ["null:open", "zero:denied"]


def test_a_new_filter_replaces_the_old_one(cgroup2_dir: Path) -> None:
    v2devices.set(str(cgroup2_dir), parse_rules([{"allow": False, "access": "rwm"}]))
    first = attached(cgroup2_dir)

    v2devices.set(
        str(cgroup2_dir),
        parse_rules(
            [
                {"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "r"},
            ]
        ),
    )

    now = attached(cgroup2_dir)
    assert len(now) == 1 and now != first
    assert open_devices_inside(cgroup2_dir) == ["null:open", "zero:open"]


def test_the_verifier_log_explains_a_rejected_program() -> None:
    exit_without_r0 = (0x95).to_bytes(8, "little")  # BPF_EXIT with r0 never set

    with pytest.raises(OSError) as caught:
        bpf.prog_load_cgroup_device(exit_without_r0)

    assert "verifier" in str(caught.value)
