"""root and linux.rootfsPropagation: pivot_root or --no-pivot, read-only, propagation."""

from __future__ import annotations

import pytest

from tests.integration.runtime.conftest import HostMount
from tests.integration.runtime.containers import use_script
from tests.integration.runtime.inside import mount_at, mounts_in, parse_mountinfo, run_probe
from tests.support import Bundle, Runtime, requires, wait_for_path

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]

MARKER = ".dockyard-root-marker"


def assert_root_is_the_bundles(bundle: Bundle, mountinfo: str) -> None:
    root = mount_at(parse_mountinfo(mountinfo), "/")
    # mountinfo's root field is the path inside the filesystem the rootfs is on.
    assert str(bundle.rootfs).endswith(root.root), root


@pytest.mark.parametrize("flags", [[], ["--no-pivot"]], ids=["pivot_root", "no-pivot"])
def test_the_root_is_the_bundles_rootfs(runtime: Runtime, bundle: Bundle, flags: list[str]) -> None:
    (bundle.rootfs / MARKER).write_text("inside\n")
    use_script(bundle, f"cat /{MARKER}; cat /proc/self/mountinfo", writable_root=False)

    result = runtime("run", *flags, "--bundle", bundle.path, runtime.new_id())

    marker, mountinfo = result.stdout.split("\n", 1)
    assert marker == "inside"
    assert_root_is_the_bundles(bundle, mountinfo)


def test_a_readonly_root_refuses_writes(runtime: Runtime, bundle: Bundle) -> None:
    result = run_probe(runtime, bundle, "grep ' / ' /proc/self/mountinfo; touch /written")

    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert "ro" in parse_mountinfo(result.stdout)[0].options
    assert not (bundle.rootfs / "written").exists()


def test_a_writable_root_takes_writes(runtime: Runtime, bundle: Bundle) -> None:
    result = run_probe(runtime, bundle, "touch /written", writable_root=True)

    assert result.returncode == 0, result.stderr
    assert (bundle.rootfs / "written").exists()


def shared_rootfs(bundle: Bundle, host_mount: HostMount) -> None:
    """Make the bundle's rootfs a shared mount on the host, so that the
    container's root propagation has a peer group to be a slave of (or not)."""
    host_mount("--bind", bundle.rootfs, bundle.rootfs)
    host_mount("--make-shared", bundle.rootfs)


@pytest.mark.parametrize(
    ("propagation", "expected"),
    [("rslave", {"master"}), ("private", set()), ("rprivate", set())],
)
def test_rootfs_propagation_shows_in_mountinfo(
    runtime: Runtime,
    bundle: Bundle,
    host_mount: HostMount,
    propagation: str,
    expected: set[str],
) -> None:
    shared_rootfs(bundle, host_mount)
    bundle.config["linux"]["rootfsPropagation"] = propagation

    root = mount_at(mounts_in(runtime, bundle), "/")

    assert root.propagation == expected, root.optional


@pytest.mark.parametrize(("propagation", "seen"), [("rslave", True), ("private", False)])
def test_rootfs_propagation_decides_whether_host_mounts_reach_the_container(
    runtime: Runtime, bundle: Bundle, host_mount: HostMount, propagation: str, seen: bool
) -> None:
    shared_rootfs(bundle, host_mount)
    (bundle.rootfs / "late").mkdir()
    bundle.config["linux"]["rootfsPropagation"] = propagation
    use_script(
        bundle,
        "if grep -q ' /late ' /proc/self/mountinfo; then echo seen; else echo unseen; fi"
        " > /tmp/result.new && mv /tmp/result.new /tmp/result",
    )
    container_id = runtime.create(bundle)

    # Mounted on the host after the container's mounts were made.
    host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", bundle.rootfs / "late")
    runtime.start(container_id)

    result = wait_for_path(bundle.rootfs / "tmp/result").read_text()
    assert result == ("seen\n" if seen else "unseen\n")
