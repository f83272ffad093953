"""The test support code itself: skip reasons, the busybox rootfs, bundles."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import leaks
from tests.support.bundle import Bundle, default_config
from tests.support.needs import CHECKS, missing, requires
from tests.support.registry import listens_on
from tests.support.rootfs import build_rootfs, copy_rootfs


@pytest.fixture
def fresh_checks() -> Iterator[None]:
    missing.cache_clear()
    yield
    missing.cache_clear()


def test_requires_names_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, fresh_checks: None
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)

    mark = requires("root", "binary:no-such-program-here")

    assert mark.args == (True,)
    assert mark.kwargs["reason"] == (
        "needs root (running as uid 1000); "
        "needs binary:no-such-program-here (no-such-program-here is not on PATH)"
    )


def test_requires_met(monkeypatch: pytest.MonkeyPatch, fresh_checks: None) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)

    assert requires("root", "binary:sh").args == (False,)


def test_requires_rejects_an_unknown_need() -> None:
    with pytest.raises(ValueError, match="unknown need 'rooot'"):
        requires("rooot")


def test_every_known_need_can_be_checked(fresh_checks: None) -> None:
    for need in CHECKS:
        assert missing(need) is None or isinstance(missing(need), str)


def test_busybox_rootfs(tmp_path: Path) -> None:
    rootfs = build_rootfs(tmp_path / "rootfs")

    busybox = rootfs / "bin/busybox"
    assert busybox.is_file() and not busybox.is_symlink()
    assert os.readlink(rootfs / "bin/sh") == "busybox"
    for name in ("proc", "sys", "dev", "tmp", "etc", "root"):
        assert (rootfs / name).is_dir()
    users = {
        line.split(":")[0]: line.split(":")[2:4]
        for line in (rootfs / "etc/passwd").read_text().splitlines()
    }
    assert users == {"root": ["0", "0"], "test": ["1000", "1000"], "nobody": ["65534", "65534"]}
    assert "test:x:1000:" in (rootfs / "etc/group").read_text()


def test_copied_rootfs_is_independent(tmp_path: Path) -> None:
    cache = build_rootfs(tmp_path / "cache")
    copy = copy_rootfs(cache, tmp_path / "copy")

    (copy / "etc/passwd").write_text("changed\n")

    assert (cache / "etc/passwd").read_text().startswith("root:")


def test_default_config_is_runc_spec_without_a_tty() -> None:
    config = default_config()

    assert config["ociVersion"] == "1.2.0"
    assert config["process"]["terminal"] is False
    assert config["process"]["args"] == ["sh"]
    assert config["root"] == {"path": "rootfs", "readonly": True}
    assert config["hostname"] == "dockyard"
    assert [m["destination"] for m in config["mounts"]] == [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
        "/sys/fs/cgroup",
    ]
    namespaces = [ns["type"] for ns in config["linux"]["namespaces"]]
    assert namespaces == ["pid", "network", "ipc", "uts", "mount", "cgroup"]
    assert config["process"]["capabilities"].keys() == {"bounding", "effective", "permitted"}


def test_bundle_writes_its_config(tmp_path: Path) -> None:
    bundle = Bundle(tmp_path)
    bundle.process["args"] = ["echo", "hi"]

    bundle.write()

    assert json.loads(bundle.config_path.read_text())["process"]["args"] == ["echo", "hi"]
    assert bundle.rootfs == tmp_path / "rootfs"
    assert Bundle(tmp_path / "other").config["process"]["args"] == ["sh"]  # no shared default


HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 0:40 / /var/tmp/a\\040b rw,relatime - cgroup cgroup rw,pids
"""


def test_cgroup_mounts_are_the_hierarchies_under_the_root() -> None:
    root = Path("/sys/fs/cgroup")

    assert leaks.cgroup_mounts(root, HYBRID) == {
        root / "cpu": 32,
        root / "systemd": 40,
        root / "unified": 41,
    }
    # the cgroup v2 guest: the unified hierarchy is the root itself
    unified = "25 23 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
    assert leaks.cgroup_mounts(root, unified) == {root: 25}


def test_only_cgroups_in_the_given_hierarchies_count() -> None:
    root = Path("/sys/fs/cgroup")
    ours = {root / "cpu/dockyard-test-1", root / "hugetlb/dockyard-test-1", root / "cpux/a"}

    assert leaks.in_hierarchies(ours, [root / "cpu"]) == {root / "cpu/dockyard-test-1"}
    assert leaks.in_hierarchies(ours, [root]) == ours


def test_listens_on_tells_whose_socket_listens_on_a_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        assert not listens_on(os.getpid(), port)  # bound, not listening yet
        listener.listen()

        assert listens_on(os.getpid(), port)
        assert not listens_on(os.getppid(), port)
