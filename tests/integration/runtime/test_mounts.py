"""mounts: bind and rbind with their flags, tmpfs, the special filesystems,
targets made as needed, and the order in which mounts are made."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.runtime.conftest import HostMount
from tests.integration.runtime.inside import (
    MountEntry,
    mount_at,
    mounts_in,
    parse_mountinfo,
    probe,
    run_probe,
)
from tests.support import Bundle, Runtime, leaks, requires

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root")]


def add_mount(
    bundle: Bundle, destination: str, type_: str, source: str | Path, *options: str
) -> dict[str, Any]:
    mount = {"destination": destination, "type": type_, "source": str(source)}
    if options:
        mount["options"] = list(options)
    bundle.config["mounts"].append(mount)
    return mount


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    """A host directory to bind into containers, with one file in it."""
    path = tmp_path / "source"
    path.mkdir()
    (path / "file").write_text("from the host\n")
    return path


@pytest.mark.parametrize(
    ("option", "present", "absent"),
    [
        ("ro", {"ro"}, {"rw"}),
        ("rw", {"rw"}, {"ro"}),
        ("nosuid", {"nosuid"}, set()),
        ("nodev", {"nodev"}, set()),
        ("noexec", {"noexec"}, set()),
        ("noatime", {"noatime"}, {"relatime"}),
        ("relatime", {"relatime"}, {"noatime"}),
        ("strictatime", set(), {"relatime", "noatime"}),
    ],
)
def test_bind_mount_flags(
    runtime: Runtime,
    bundle: Bundle,
    source_dir: Path,
    option: str,
    present: set[str],
    absent: set[str],
) -> None:
    add_mount(bundle, "/mnt/bound", "bind", source_dir, "bind", option)

    bound = mount_at(mounts_in(runtime, bundle), "/mnt/bound")

    assert present <= bound.options, bound.options
    assert not absent & bound.options, bound.options


def test_all_bind_flags_together(runtime: Runtime, bundle: Bundle, source_dir: Path) -> None:
    add_mount(bundle, "/mnt/bound", "bind", source_dir, "rbind", "ro", "nosuid", "nodev", "noexec")

    bound = mount_at(mounts_in(runtime, bundle), "/mnt/bound")

    assert {"ro", "nosuid", "nodev", "noexec"} <= bound.options


def test_a_readonly_bind_refuses_writes(runtime: Runtime, bundle: Bundle, source_dir: Path) -> None:
    add_mount(bundle, "/mnt/bound", "bind", source_dir, "bind", "ro")

    result = run_probe(runtime, bundle, "cat /mnt/bound/file; echo changed > /mnt/bound/file")

    assert result.stdout == "from the host\n"
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert (source_dir / "file").read_text() == "from the host\n"


def test_a_writable_bind_reaches_the_host(
    runtime: Runtime, bundle: Bundle, source_dir: Path
) -> None:
    add_mount(bundle, "/mnt/bound", "bind", source_dir, "bind", "rw")

    probe(runtime, bundle, "echo from the container > /mnt/bound/new")

    assert (source_dir / "new").read_text() == "from the container\n"


def test_a_noexec_bind_refuses_to_run_programs(
    runtime: Runtime, bundle: Bundle, source_dir: Path
) -> None:
    shutil.copy2(bundle.rootfs / "bin/busybox", source_dir / "busybox")
    add_mount(bundle, "/mnt/bound", "bind", source_dir, "bind", "noexec")

    result = run_probe(runtime, bundle, "/mnt/bound/busybox true")

    assert result.returncode != 0
    assert "Permission denied" in result.stderr


def test_a_bind_source_relative_to_the_bundle(runtime: Runtime, bundle: Bundle) -> None:
    (bundle.path / "beside-config").mkdir()
    (bundle.path / "beside-config/file").write_text("in the bundle\n")
    add_mount(bundle, "/mnt/bound", "bind", "beside-config", "bind")

    assert probe(runtime, bundle, "cat /mnt/bound/file") == "in the bundle\n"


@pytest.fixture
def shared_source(source_dir: Path, host_mount: HostMount) -> Path:
    """``source_dir`` as a shared mount on the host: a peer group to join or leave."""
    host_mount("--bind", source_dir, source_dir)
    host_mount("--make-shared", source_dir)
    return source_dir


def host_mounts() -> list[MountEntry]:
    return parse_mountinfo(Path("/proc/self/mountinfo").read_text())


def peer_group(path: Path) -> str:
    """The number of the host's peer group that the mount at ``path`` is in."""
    tags = mount_at(host_mounts(), str(path)).optional
    shared = [tag for tag in tags if tag.startswith("shared:")]
    assert shared, f"{path} is not a shared mount on the host: {tags}"
    return shared[0].partition(":")[2]


@pytest.mark.parametrize(
    ("option", "has", "lacks"),
    [
        ("slave", {"master"}, {"shared"}),
        ("private", set(), {"shared", "master", "unbindable"}),
        ("unbindable", {"unbindable"}, {"shared", "master"}),
    ],
)
def test_bind_mount_propagation(
    runtime: Runtime,
    bundle: Bundle,
    shared_source: Path,
    option: str,
    has: set[str],
    lacks: set[str],
) -> None:
    add_mount(bundle, "/mnt/bound", "bind", shared_source, "bind", option)

    bound = mount_at(mounts_in(runtime, bundle), "/mnt/bound")

    assert has <= bound.propagation, bound.optional
    assert not lacks & bound.propagation, bound.optional
    if option == "slave":  # a slave of the host's group: host mounts reach it
        assert f"master:{peer_group(shared_source)}" in bound.optional


def bidirectional(bundle: Bundle, source: Path) -> None:
    """A mount as containerd's CRI plugin makes a Kubernetes Bidirectional one:
    rbind with rshared, and the whole root rshared."""
    bundle.config["linux"]["rootfsPropagation"] = "rshared"
    add_mount(bundle, "/mnt/bound", "bind", source, "rbind", "rshared")


def test_a_shared_bind_joins_the_host_peer_group(
    runtime: Runtime, bundle: Bundle, shared_source: Path
) -> None:
    bidirectional(bundle, shared_source)

    bound = mount_at(mounts_in(runtime, bundle), "/mnt/bound")

    assert f"shared:{peer_group(shared_source)}" in bound.optional


def test_a_mount_made_in_a_shared_bind_appears_on_the_host(
    runtime: Runtime, bundle: Bundle, shared_source: Path
) -> None:
    (shared_source / "sub").mkdir()
    bidirectional(bundle, shared_source)
    for kind in ("bounding", "effective", "permitted"):
        bundle.process["capabilities"][kind].append("CAP_SYS_ADMIN")

    try:
        probe(runtime, bundle, "mount -t tmpfs -o size=1m made-inside /mnt/bound/sub")

        made = mount_at(host_mounts(), str(shared_source / "sub"))
    finally:
        leaks.unmount([str(shared_source / "sub")])
    assert (made.fstype, made.source) == ("tmpfs", "made-inside")


def test_a_shared_root_puts_no_mount_on_the_host(
    runtime: Runtime, bundle: Bundle, host_mount: HostMount
) -> None:
    # The bundle on a shared host mount: the rootfs's own bind and the
    # container's mounts on it must stay in the container.
    host_mount("--bind", bundle.path, bundle.path)
    host_mount("--make-shared", bundle.path)
    bundle.config["linux"]["rootfsPropagation"] = "rshared"
    under = str(bundle.path)
    before = [e.mount_point for e in host_mounts() if e.mount_point.startswith(under)]

    probe(runtime, bundle, "true")

    assert [e.mount_point for e in host_mounts() if e.mount_point.startswith(under)] == before


@pytest.fixture
def source_with_submount(source_dir: Path, host_mount: HostMount) -> Path:
    """``source_dir`` with a tmpfs mounted on its ``sub`` directory."""
    (source_dir / "sub").mkdir()
    host_mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", source_dir / "sub")
    return source_dir


def test_rbind_takes_submounts_along(
    runtime: Runtime, bundle: Bundle, source_with_submount: Path
) -> None:
    add_mount(bundle, "/mnt/tree", "bind", source_with_submount, "rbind")

    sub = mount_at(mounts_in(runtime, bundle), "/mnt/tree/sub")

    assert sub.fstype == "tmpfs"


def test_a_plain_bind_leaves_submounts_behind(
    runtime: Runtime, bundle: Bundle, source_with_submount: Path
) -> None:
    add_mount(bundle, "/mnt/tree", "bind", source_with_submount, "bind")

    entries = mounts_in(runtime, bundle)

    assert "/mnt/tree" in [entry.mount_point for entry in entries]
    assert "/mnt/tree/sub" not in [entry.mount_point for entry in entries]


def test_rro_makes_submounts_readonly_too(
    runtime: Runtime, bundle: Bundle, source_with_submount: Path
) -> None:
    add_mount(bundle, "/mnt/tree", "bind", source_with_submount, "rbind", "rro")

    result = run_probe(
        runtime,
        bundle,
        "grep ' /mnt/tree' /proc/self/mountinfo; touch /mnt/tree/new; touch /mnt/tree/sub/new",
    )

    assert result.stderr.count("Read-only file system") == 2, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(" ro," in line for line in lines), lines
    assert not (source_with_submount / "new").exists()
    assert not (source_with_submount / "sub/new").exists()


def test_tmpfs_with_size_and_mode(runtime: Runtime, bundle: Bundle) -> None:
    add_mount(bundle, "/mnt/scratch", "tmpfs", "tmpfs", "nosuid", "size=1m", "mode=1770")

    lines = probe(
        runtime, bundle, "stat -c %a /mnt/scratch; grep ' /mnt/scratch ' /proc/self/mountinfo"
    ).splitlines()

    assert lines[0] == "1770"
    assert " - tmpfs " in lines[1]
    assert "size=1024k" in lines[1] and "mode=1770" in lines[1], lines[1]
    assert "nosuid" in lines[1].split()[5]


@pytest.mark.parametrize(
    ("mount_point", "fstypes"),
    [
        ("/proc", {"proc"}),
        ("/sys", {"sysfs"}),
        ("/dev", {"tmpfs"}),
        ("/dev/pts", {"devpts"}),
        ("/dev/shm", {"tmpfs"}),
        ("/dev/mqueue", {"mqueue"}),
    ],
)
def test_the_default_mounts(
    runtime: Runtime, bundle: Bundle, mount_point: str, fstypes: set[str]
) -> None:
    entry = mount_at(mounts_in(runtime, bundle), mount_point)

    assert entry.fstype in fstypes


def test_the_cgroup_mount_shows_cgroup_filesystems(runtime: Runtime, bundle: Bundle) -> None:
    entries = mounts_in(runtime, bundle)

    # cgroup2 itself on a unified host; on a v1 host a tmpfs of hierarchies.
    under = [e for e in entries if (e.mount_point + "/").startswith("/sys/fs/cgroup/")]
    assert under, [e.mount_point for e in entries]
    assert {e.fstype for e in under} & {"cgroup", "cgroup2"}
    assert all("ro" in e.options for e in under if e.fstype.startswith("cgroup"))


def test_a_missing_mount_target_is_created(runtime: Runtime, bundle: Bundle) -> None:
    add_mount(bundle, "/not/in/the/image", "tmpfs", "tmpfs", "size=1m")

    entry = mount_at(mounts_in(runtime, bundle), "/not/in/the/image")

    assert entry.fstype == "tmpfs"
    assert (bundle.rootfs / "not/in/the/image").is_dir()


def test_a_file_bind_mount_creates_the_target_file(
    runtime: Runtime, bundle: Bundle, source_dir: Path
) -> None:
    add_mount(bundle, "/etc/dockyard/settings", "bind", source_dir / "file", "bind", "ro")

    assert probe(runtime, bundle, "cat /etc/dockyard/settings") == "from the host\n"
    assert (bundle.rootfs / "etc/dockyard/settings").is_file()


@pytest.mark.parametrize("tmpfs_first", [True, False], ids=["tmpfs-then-bind", "bind-then-tmpfs"])
def test_mounts_are_made_in_order(
    runtime: Runtime, bundle: Bundle, source_dir: Path, tmpfs_first: bool
) -> None:
    if tmpfs_first:
        add_mount(bundle, "/mnt/outer", "tmpfs", "tmpfs", "size=1m")
    add_mount(bundle, "/mnt/outer/inner", "bind", source_dir, "bind")
    if not tmpfs_first:
        add_mount(bundle, "/mnt/outer", "tmpfs", "tmpfs", "size=1m")

    result = run_probe(runtime, bundle, "cat /mnt/outer/inner/file")

    if tmpfs_first:  # the bind lands on the tmpfs
        assert result.stdout == "from the host\n"
    else:  # the tmpfs hides the bind made before it
        assert result.returncode != 0
        assert result.stdout == ""
