"""linux.maskedPaths, linux.readonlyPaths and linux.sysctl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runtime.inside import (
    assert_refused,
    mount_at,
    mounts_in,
    probe,
    probe_lines,
    run_probe,
)
from tests.support import Bundle, Runtime, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def on_host(path: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not Path(path).exists(), reason=f"this kernel has no {path}")


# Some of the default masked paths (tests.support.bundle.MASKED_PATHS)
MASKED_FILES = ["/proc/kcore", "/proc/keys", "/proc/timer_list"]
MASKED_DIRS = ["/proc/acpi", "/sys/firmware"]


@pytest.mark.parametrize("path", [pytest.param(p, marks=on_host(p)) for p in MASKED_FILES])
def test_a_masked_file_reads_empty(runtime: Runtime, bundle: Bundle, path: str) -> None:
    assert probe(runtime, bundle, f"wc -c < {path}").strip() == "0"


@pytest.mark.parametrize("path", [pytest.param(p, marks=on_host(p)) for p in MASKED_DIRS])
def test_a_masked_directory_is_empty_and_readonly(
    runtime: Runtime, bundle: Bundle, path: str
) -> None:
    result = run_probe(runtime, bundle, f"ls -A {path}; touch {path}/new")

    assert result.stdout == ""
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


@on_host("/proc/timer_list")
def test_an_unmasked_file_reads_as_usual(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["maskedPaths"] = []

    assert int(probe(runtime, bundle, "wc -c < /proc/timer_list")) > 0


def test_paths_of_the_image_can_be_masked(runtime: Runtime, bundle: Bundle) -> None:
    (bundle.rootfs / "secret-dir").mkdir()
    (bundle.rootfs / "secret-dir/key").write_text("key\n")
    (bundle.rootfs / "secret-file").write_text("secret\n")
    bundle.config["linux"]["maskedPaths"] += ["/secret-dir", "/secret-file"]

    lines = probe_lines(runtime, bundle, "ls -A /secret-dir; wc -c < /secret-file; cat /etc/group")

    assert lines[0] == "0"
    assert "root:x:0:" in lines  # what is not masked reads as usual


def test_a_missing_masked_or_readonly_path_is_ignored(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["maskedPaths"].append("/no/such/path")
    bundle.config["linux"]["readonlyPaths"].append("/no/such/other/path")

    assert probe(runtime, bundle, "echo started") == "started\n"


def test_readonly_paths_refuse_writes(runtime: Runtime, bundle: Bundle) -> None:
    result = run_probe(runtime, bundle, "echo renamed > /proc/sys/kernel/hostname")

    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


@pytest.mark.parametrize("path", ["/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"])
def test_readonly_paths_are_readonly_mounts(runtime: Runtime, bundle: Bundle, path: str) -> None:
    if not Path(path).exists():
        pytest.skip(f"this kernel has no {path}")

    assert "ro" in mount_at(mounts_in(runtime, bundle), path).options


def test_paths_of_the_image_can_be_readonly(runtime: Runtime, bundle: Bundle) -> None:
    (bundle.rootfs / "config").mkdir()
    bundle.config["linux"]["readonlyPaths"].append("/config")

    result = run_probe(
        runtime,
        bundle,
        "touch /tmp/elsewhere && echo tmp-ok; touch /config/new",
        writable_root=True,
    )

    assert result.stdout == "tmp-ok\n"
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


def test_sysctl_in_the_network_namespace(runtime: Runtime, bundle: Bundle) -> None:
    host_value = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    wanted = "0" if host_value.strip() == "1" else "1"
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": wanted}

    assert probe(runtime, bundle, "cat /proc/sys/net/ipv4/ip_forward") == f"{wanted}\n"
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_value


def test_sysctl_in_the_ipc_namespace(runtime: Runtime, bundle: Bundle) -> None:
    host_value = Path("/proc/sys/kernel/shmmax").read_text()
    bundle.config["linux"]["sysctl"] = {"kernel.shmmax": "123456789", "kernel.msgmax": "4321"}

    lines = probe_lines(runtime, bundle, "cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax")

    assert lines == ["123456789", "4321"]
    assert Path("/proc/sys/kernel/shmmax").read_text() == host_value


@pytest.fixture
def host_ip_forward() -> Iterator[str]:
    """Put net.ipv4.ip_forward back if a runtime wrongly set the host's."""
    path = Path("/proc/sys/net/ipv4/ip_forward")
    before = path.read_text()
    yield before
    if path.read_text() != before:
        path.write_text(before)
        pytest.fail("the runtime changed the host's net.ipv4.ip_forward")


def test_a_net_sysctl_without_a_network_namespace_is_refused(
    runtime: Runtime, bundle: Bundle, host_ip_forward: str
) -> None:
    namespaces = bundle.config["linux"]["namespaces"]
    namespaces[:] = [ns for ns in namespaces if ns["type"] != "network"]
    bundle.config["linux"]["sysctl"] = {
        "net.ipv4.ip_forward": "0" if host_ip_forward.strip() == "1" else "1"
    }

    result = run_probe(runtime, bundle, "echo started")

    assert_refused(result, "net.ipv4.ip_forward")
    assert "started" not in result.stdout
