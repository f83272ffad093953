"""/dev: the default devices, linux.devices, devpts and ptmx, shm, the fd links."""

from __future__ import annotations

import pytest

from tests.integration.runtime.inside import mount_at, mounts_in, probe_lines, run_probe
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

STAT = "stat -c '%n|%F|%t:%T|%a|%u:%g'"  # %t:%T are major:minor in hex

# runtime-spec config-linux.md "Default Devices": 0666 char devices
DEFAULT_DEVICES = {
    "/dev/null": "1:3",
    "/dev/zero": "1:5",
    "/dev/full": "1:7",
    "/dev/random": "1:8",
    "/dev/urandom": "1:9",
    "/dev/tty": "5:0",
}


def stat_lines(lines: list[str]) -> dict[str, list[str]]:
    return {line.split("|")[0]: line.split("|")[1:] for line in lines}


def test_the_default_devices(runtime: Runtime, bundle: Bundle) -> None:
    found = stat_lines(probe_lines(runtime, bundle, f"{STAT} {' '.join(DEFAULT_DEVICES)}"))

    for path, numbers in DEFAULT_DEVICES.items():
        assert found[path] == ["character special file", numbers, "666", "0:0"], path


def test_the_default_devices_work(runtime: Runtime, bundle: Bundle) -> None:
    script = """
        head -c 4 /dev/zero | od -An -tx1
        head -c 16 /dev/urandom | wc -c
        head -c 16 /dev/random | wc -c
        echo gone > /dev/null && echo null-ok
        cat /dev/null | wc -c
        echo x > /dev/full || echo full-refused
    """
    result = run_probe(runtime, bundle, script)

    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines == ["00 00 00 00", "16", "16", "null-ok", "0", "full-refused"]
    assert "No space left on device" in result.stderr


def test_a_char_device_with_mode_and_owner(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["devices"] = [
        {
            "path": "/dev/dockyard-null",
            "type": "c",
            "major": 1,
            "minor": 3,
            "fileMode": 0o640,
            "uid": 1000,
            "gid": 1001,
        }
    ]

    found = stat_lines(probe_lines(runtime, bundle, f"{STAT} /dev/dockyard-null"))

    assert found["/dev/dockyard-null"] == ["character special file", "1:3", "640", "1000:1001"]


def test_devices_in_new_directories(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/nested/deeper/zero", "type": "c", "major": 1, "minor": 5},
        {"path": "/dev/nested/loop200", "type": "b", "major": 7, "minor": 200},
    ]

    found = stat_lines(
        probe_lines(runtime, bundle, f"{STAT} /dev/nested/deeper/zero /dev/nested/loop200")
    )

    assert found["/dev/nested/deeper/zero"][:2] == ["character special file", "1:5"]
    assert found["/dev/nested/loop200"][:2] == ["block special file", "7:c8"]


def test_a_device_replaces_a_default_one(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600}
    ]
    # runc then drops its default cgroup rule for it; allow it explicitly.
    bundle.config["linux"]["resources"]["devices"].append(
        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}
    )

    found = stat_lines(probe_lines(runtime, bundle, f"{STAT} /dev/null"))

    assert found["/dev/null"][:3] == ["character special file", "1:3", "600"]


def test_devpts_and_the_ptmx_link(runtime: Runtime, bundle: Bundle) -> None:
    lines = probe_lines(
        runtime, bundle, "readlink /dev/ptmx; stat -c '%F %t:%T' /dev/pts/ptmx; ls /dev/pts"
    )

    assert lines == ["pts/ptmx", "character special file 5:2", "ptmx"]


def test_devpts_is_a_new_instance_with_its_options(runtime: Runtime, bundle: Bundle) -> None:
    pts = mount_at(mounts_in(runtime, bundle), "/dev/pts")

    assert pts.fstype == "devpts"
    assert {"nosuid", "noexec"} <= pts.options
    assert {"gid=5", "mode=620", "ptmxmode=666"} <= pts.super_options


def test_dev_shm_is_a_writable_tmpfs(runtime: Runtime, bundle: Bundle) -> None:
    # The root is read-only (the default bundle's); /dev/shm is not.
    lines = probe_lines(
        runtime,
        bundle,
        "echo data > /dev/shm/file && cat /dev/shm/file; stat -c %a /dev/shm;"
        " grep ' /dev/shm ' /proc/self/mountinfo",
    )

    assert lines[:2] == ["data", "1777"]
    assert " - tmpfs " in lines[2]


def test_the_fd_links(runtime: Runtime, bundle: Bundle) -> None:
    lines = probe_lines(
        runtime,
        bundle,
        "for link in fd stdin stdout stderr; do readlink /dev/$link; done;"
        # >>: stdout may be the runtime's own file, which > would truncate
        " echo through-stdout >> /dev/stdout",
    )

    assert lines == [
        "/proc/self/fd",
        "/proc/self/fd/0",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "through-stdout",
    ]
