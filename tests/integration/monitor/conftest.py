"""Fixtures for the monitor's tests: the monitor binary, both runtimes, and
containers under a monitor (`make_monitored`)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockyard.engine.monitor import binary
from tests.integration.conftest import clean_up_leaks
from tests.integration.monitor.harness import Monitored
from tests.support import leaks
from tests.support.bundle import MakeBundle
from tests.support.runtime import Runtime, runtime_under_test


def runtimes() -> list[str]:
    """The runtime under test, and runc beside it: the monitor must drive both."""
    names = [runtime_under_test()[0]]
    return names if "runc" in names else [*names, "runc"]


@pytest.fixture(scope="session")
def monitor_binary() -> str:
    return binary()


@pytest.fixture(params=runtimes())
def runtime(request: pytest.FixtureRequest, tmp_path: Path, test_marker: str) -> Iterator[Runtime]:
    """The runtime (``dockyard`` and ``runc``) with a state root of its own.
    Afterwards: containers force-deleted, then no container process, mount,
    cgroup or monitor (anything naming tmp_path) may be left."""
    name = request.param
    if name == runtime_under_test()[0]:
        executable = runtime_under_test()[1]
    else:
        executable = shutil.which(name) or name
    if not os.access(executable, os.X_OK):
        pytest.skip(f"{name} is not installed")
    runtime = Runtime(name, executable, tmp_path / "state")
    yield runtime
    problems = runtime.cleanup()
    # a monitor ends once its container is gone: give it a moment
    exclude = leaks.ancestors(os.getpid())
    deadline = time.monotonic() + 5
    while leaks.processes_mentioning(f"{tmp_path}/", exclude) and time.monotonic() < deadline:
        time.sleep(0.05)
    found = clean_up_leaks(
        leaks.marked_processes(test_marker) | leaks.processes_mentioning(f"{tmp_path}/", exclude),
        leaks.mounts_under(tmp_path),
        {cgroup for cgroup in leaks.find_test_cgroups() if cgroup.name in runtime.ids},
    )
    if problems or found:
        pytest.fail(f"{runtime.name} and the monitor left behind:\n" + "\n".join(problems + found))


MakeMonitored = Callable[..., Monitored]


@pytest.fixture
def make_monitored(
    monitor_binary: str, runtime: Runtime, make_bundle: MakeBundle, tmp_path: Path
) -> MakeMonitored:
    """``make_monitored(*args, tty=False, name="c")``: a bundle running ``args``
    and a `Monitored` for it (not spawned yet)."""

    def make(*args: str, tty: bool = False, name: str = "c") -> Monitored:
        bundle = make_bundle(f"bundle-{name}")
        bundle.process["args"] = list(args)
        bundle.process["terminal"] = tty
        bundle.write()
        return Monitored(monitor_binary, runtime, bundle, tmp_path / name)

    return make
