"""Fixtures: a fake cgroup tree (v1, hybrid or v2) wired into dockyard.cgroups.fs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cgroups import fs
from tests.unit.cgroups.fakekernel import FakeKernel, MakeKernel


@pytest.fixture
def make_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeKernel:
    def make(mode: str) -> FakeKernel:
        kernel = FakeKernel(tmp_path / "cgroup", mode)
        monkeypatch.setattr(fs, "_mkdir", kernel.mkdir)
        monkeypatch.setattr(fs, "_write", kernel.write)
        monkeypatch.setattr(fs, "_rmdir", kernel.rmdir)
        return kernel

    return make


@pytest.fixture
def v1(make_kernel: MakeKernel) -> FakeKernel:
    return make_kernel("v1")


@pytest.fixture
def hybrid(make_kernel: MakeKernel) -> FakeKernel:
    return make_kernel("hybrid")


@pytest.fixture
def v2(make_kernel: MakeKernel) -> FakeKernel:
    return make_kernel("v2")


@pytest.fixture
def proc_self_cgroup(tmp_path: Path) -> Path:
    """A /proc/self/cgroup for a runtime that sits in /runtime (memory: /mem/rt)."""
    path = tmp_path / "proc-self-cgroup"
    path.write_text(
        "11:hugetlb:/runtime\n10:net_cls,net_prio:/runtime\n9:name=systemd:/runtime\n"
        "8:pids:/runtime\n7:blkio:/runtime\n6:freezer:/runtime\n5:devices:/runtime\n"
        "4:memory:/mem/rt\n3:cpuset:/runtime\n2:cpuacct:/runtime\n1:cpu:/runtime\n0::/unified-rt\n"
    )
    return path
