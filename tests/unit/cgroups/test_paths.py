"""Where a container's cgroup goes: cgroupsPath resolution and backend detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cgroups.manager import container_path, manager_for, manager_from_paths, own_cgroups
from dockyard.cgroups.v1.manager import V1Manager
from dockyard.cgroups.v2.manager import V2Manager
from dockyard.errors import InvalidSpec, Unsupported
from tests.unit.cgroups.fakekernel import FakeKernel, MakeKernel


@pytest.mark.parametrize(
    ("cgroups_path", "expected"),
    [
        ("", (False, ["c1"])),
        ("/a/b", (True, ["a", "b"])),
        ("/a//./b/", (True, ["a", "b"])),
        ("/a/x/../b", (True, ["a", "b"])),
        ("rel/c", (False, ["rel", "c"])),
        ("rel/../c", (False, ["c"])),
    ],
)
def test_container_path(cgroups_path: str, expected: tuple[bool, list[str]]) -> None:
    assert container_path(cgroups_path, "c1") == expected


@pytest.mark.parametrize("cgroups_path", ["/..", "/a/../../b", "..", "../sibling", "a/../..", "/"])
def test_paths_that_climb_out_or_name_the_root_are_refused(cgroups_path: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        container_path(cgroups_path, "c1")
    assert info.value.field == "linux.cgroupsPath"


def test_systemd_slice_syntax_is_unsupported() -> None:
    with pytest.raises(Unsupported, match="systemd"):
        container_path("system.slice:dockyard:c1", "c1")


@pytest.mark.parametrize("container_id", ["", ".", "..", "a/b"])
def test_default_path_needs_a_usable_id(container_id: str) -> None:
    with pytest.raises(InvalidSpec):
        container_path("", container_id)


def test_own_cgroups_reads_every_hierarchy(proc_self_cgroup: Path) -> None:
    own = own_cgroups(str(proc_self_cgroup))
    assert own["memory"] == "/mem/rt"
    assert own["cpu"] == "/runtime"
    assert own["net_cls,net_prio"] == own["net_prio"] == "/runtime"
    assert own["name=systemd"] == "/runtime"
    assert own[""] == "/unified-rt"


def test_v1_absolute_path_in_every_hierarchy(v1: FakeKernel) -> None:
    manager = manager_for("/box/c1", "c1", str(v1.root))

    assert isinstance(manager, V1Manager)
    paths = manager.paths()
    root = v1.root
    assert paths["memory"] == f"{root}/memory/box/c1"
    assert paths["cpu"] == f"{root}/cpu/box/c1"
    assert paths["net_cls"] == paths["net_prio"] == f"{root}/net_cls,net_prio/box/c1"
    assert paths["name=systemd"] == f"{root}/systemd/box/c1"
    assert "" not in paths  # no unified mount on a pure v1 host


def test_hybrid_also_places_the_cgroup_in_the_unified_tree(
    hybrid: FakeKernel, proc_self_cgroup: Path
) -> None:
    paths = manager_for("", "c1", str(hybrid.root), str(proc_self_cgroup)).paths()

    assert paths[""] == f"{hybrid.root}/unified/unified-rt/c1"
    assert paths["memory"] == f"{hybrid.root}/memory/mem/rt/c1"


def test_relative_path_starts_at_the_runtimes_own_cgroup(
    hybrid: FakeKernel, proc_self_cgroup: Path
) -> None:
    paths = manager_for("sub/c1", "c1", str(hybrid.root), str(proc_self_cgroup)).paths()

    assert paths["memory"] == f"{hybrid.root}/memory/mem/rt/sub/c1"
    assert paths["cpu"] == f"{hybrid.root}/cpu/runtime/sub/c1"
    assert paths["name=systemd"] == f"{hybrid.root}/systemd/runtime/sub/c1"
    assert paths[""] == f"{hybrid.root}/unified/unified-rt/sub/c1"


def test_v2_paths(v2: FakeKernel, proc_self_cgroup: Path) -> None:
    absolute = manager_for("/box/c1", "c1", str(v2.root))
    relative = manager_for("c1", "c1", str(v2.root), str(proc_self_cgroup))

    assert isinstance(absolute, V2Manager)
    assert absolute.paths() == {"": f"{v2.root}/box/c1"}
    assert relative.paths() == {"": f"{v2.root}/unified-rt/c1"}


def test_nothing_mounted_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(Unsupported, match="no cgroup hierarchy"):
        manager_for("", "c1", str(tmp_path))


def test_symlinked_hierarchies_are_not_counted_twice(v1: FakeKernel) -> None:
    (v1.root / "cpu,cpuacct").mkdir()
    (v1.root / "cpu,cpuacct" / "cgroup.procs").write_text("")
    for name in ("cpu", "cpuacct"):
        for child in (v1.root / name).iterdir():
            child.unlink()
        (v1.root / name).rmdir()
        (v1.root / name).symlink_to("cpu,cpuacct")

    paths = manager_for("/c1", "c1", str(v1.root)).paths()

    assert paths["cpu"] == paths["cpuacct"] == f"{v1.root}/cpu,cpuacct/c1"


@pytest.mark.parametrize("mode", ["v1", "hybrid", "v2"])
def test_manager_from_paths_rebuilds_the_same_manager(make_kernel: MakeKernel, mode: str) -> None:
    kernel = make_kernel(mode)
    original = manager_for("/box/c1", "c1", str(kernel.root))
    original.create()

    rebuilt = manager_from_paths(original.paths())

    assert type(rebuilt) is type(original)
    assert rebuilt.paths() == original.paths()
    kernel.writes.clear()
    rebuilt.create()  # finds each hierarchy's root itself; nothing left to do
    assert kernel.writes == []
    rebuilt.destroy()
    assert not any(Path(p).exists() for p in original.paths().values())


def test_manager_from_paths_needs_paths() -> None:
    with pytest.raises(Unsupported):
        manager_from_paths({})
