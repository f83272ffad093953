"""Fixtures for tests that run real containers, and the session's leak check."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import leaks, netleaks
from tests.support.bundle import Bundle, MakeBundle
from tests.support.procs import ChildTracker
from tests.support.registry import Registry, need_registry, start_registry
from tests.support.rootfs import build_rootfs
from tests.support.runtime import ISSUED_IDS, Runtime, runtime_under_test

_children = ChildTracker()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Track the child processes the test's body starts (not its fixtures': a
    session's registry outlives the test that first asked for it)."""
    _children.start()
    try:
        return (yield)
    finally:
        _children.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the test's fixtures are gone: its children have ended (or are killed,
    a test error) and their pipes are closed, also when the test failed."""
    result = yield
    killed = _children.reap()
    if killed:
        raise AssertionError("the test left child processes running (killed): " + "; ".join(killed))
    return result


@pytest.fixture(scope="session")
def session_marker() -> str:
    """Marks this session's containers (in their environment) for the leak check."""
    return secrets.token_hex(4)


@pytest.fixture
def test_marker(session_marker: str) -> str:
    return f"{session_marker}:{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session; each bundle gets its own copy."""
    return build_rootfs(tmp_path_factory.mktemp("rootfs-cache") / "rootfs")


@pytest.fixture
def make_bundle(tmp_path: Path, busybox_rootfs: Path, test_marker: str) -> MakeBundle:
    """``make_bundle(name="bundle")``: a fresh busybox bundle under tmp_path."""

    def make(name: str = "bundle") -> Bundle:
        bundle = Bundle.create(tmp_path / name, rootfs_source=busybox_rootfs)
        bundle.process["env"].append(leaks.marker_env(test_marker))
        bundle.write()
        return bundle

    return make


@pytest.fixture
def bundle(make_bundle: MakeBundle) -> Bundle:
    return make_bundle()


@pytest.fixture
def runtime(tmp_path: Path, test_marker: str) -> Iterator[Runtime]:
    """The runtime under test with a state root of its own. Afterwards it
    force-deletes the test's containers, then removes (and reports) whatever
    they left: processes, mounts under tmp_path, cgroups named after them."""
    name, executable = runtime_under_test()
    if not os.access(executable, os.X_OK):
        pytest.fail(f"RUNTIME={name}: {executable} is not an executable file")
    runtime = Runtime(name, executable, tmp_path / "state")
    yield runtime
    problems = runtime.cleanup()
    found = clean_up_leaks(
        leaks.marked_processes(test_marker),
        leaks.mounts_under(tmp_path),
        {cgroup for cgroup in leaks.find_test_cgroups() if cgroup.name in runtime.ids},
    )
    if problems or found:
        pytest.fail(f"{runtime.name} left behind:\n" + "\n".join(problems + found))


@pytest.fixture(scope="session", autouse=True)
def leak_check(tmp_path_factory: pytest.TempPathFactory, session_marker: str) -> Iterator[None]:
    """After the last test: no processes, mounts or cgroups left by this session."""
    test_dirs = tmp_path_factory.getbasetemp()
    cgroups_before = leaks.find_test_cgroups()
    hierarchies_before = leaks.cgroup_mounts()
    interfaces_before = set(netleaks.interfaces())
    yield
    # the engines' DNS resolvers (network/dns/): each must have left with its last container
    resolvers = leaks.resolvers(f"{test_dirs}/")
    processes = leaks.marked_processes(session_marker) | leaks.processes_mentioning(
        f"{test_dirs}/", exclude=leaks.ancestors(os.getpid()) | set(resolvers)
    )
    # Only cgroups of containers this session made: another session running
    # at the same time has live ones of its own.
    ours = {
        cgroup for cgroup in leaks.find_test_cgroups() - cgroups_before if cgroup.name in ISSUED_IDS
    }
    # ...and only in hierarchies mounted all along. One that someone mounted
    # while we ran (a v1 hugetlb, say, as the benches once did on the host)
    # may hold cgroups of ours that a delete could not see while it was gone:
    # not the runtime's leak. They are removed all the same.
    steady = [
        point for point, mount_id in leaks.cgroup_mounts().items()
        if hierarchies_before.get(point) == mount_id
    ]  # fmt: skip
    new_cgroups = leaks.in_hierarchies(ours, steady)
    leaks.remove_cgroups(ours - new_cgroups)
    leaks.kill_processes(resolvers)
    found = [f"DNS resolver (killed): {d}" for d in resolvers.values()]
    found += clean_up_leaks(processes, leaks.mounts_under(test_dirs), new_cgroups)
    # interfaces and nftables tables of this session's engines (tests/support/netleaks.py);
    # its engines' network namespaces are mounts under test_dirs, checked above; the
    # named ones its tests made (ip netns) are checked here
    routes = netleaks.session_routes(session_marker)  # before their interfaces go
    interfaces, tables = netleaks.session_leftovers(session_marker, interfaces_before)
    netleaks.remove(interfaces, tables)
    found += [f"interface (removed): {n}" for n in interfaces]
    found += [f"nftables table (removed): {t}" for t in tables]
    found += [f"route (removed with its interface): {r}" for r in routes]
    namespaces = netleaks.session_namespaces(session_marker)
    netleaks.remove_namespaces(namespaces)
    found += [f"network namespace (removed): /run/netns/{n}" for n in namespaces]
    programs = netleaks.redirect_programs(f"{test_dirs}/")
    netleaks.remove_redirect_programs(f"{test_dirs}/")
    found += [f"port redirect program (detached): {p}" for p in programs]
    if found:
        pytest.fail("the integration tests leaked:\n" + "\n".join(found), pytrace=False)


def clean_up_leaks(processes: dict[int, str], mounts: list[str], cgroups: set[Path]) -> list[str]:
    """Kill, unmount and remove what leaked; return what it was."""
    leaks.kill_processes(processes)
    leaks.unmount(mounts)
    leaks.remove_cgroups(cgroups)
    return (
        [f"process (killed): {description}" for description in processes.values()]
        + [f"mount (detached): {point}" for point in mounts]
        + [f"cgroup (removed): {cgroup}" for cgroup in sorted(cgroups)]
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An anonymous registry on 127.0.0.1 for the whole session (image and engine tests)."""
    need_registry()
    server = start_registry(tmp_path_factory.mktemp("registry") / "anon")
    yield server
    server.stop()
