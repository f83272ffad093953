"""Host-side things some runtime tests set up around a container, each undone
afterwards, also when the test fails: a directory outside the test's tmp dir,
host mounts, a named network namespace."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import Runtime, leaks

HostMount = Callable[..., Path]


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """An empty directory on the host, outside the test's tmp dir (whose
    parents are 0700): what a hostile image's symlinks point at, or a place
    for a bundle that a mapped uid must reach."""
    path = Path("/var/tmp") / f"dockyard-test-host-{secrets.token_hex(4)}"
    path.mkdir()
    yield path
    leaks.unmount(leaks.mounts_under(path))
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def host_mount(runtime: Runtime) -> Iterator[HostMount]:
    """``host_mount(*mount_args, target)``: run mount(8) on the host; every
    mount made (not a ``--make-*`` change) is detached at teardown. It asks
    for ``runtime`` so that its teardown runs first, before the runtime
    fixture's leak check."""
    made: list[Path] = []

    def mount(*args: str | Path) -> Path:
        target = Path(args[-1])
        subprocess.run(["mount", *map(str, args)], check=True, capture_output=True)
        if not any(str(arg).startswith("--make-") for arg in args):
            made.append(target)
        return target

    yield mount
    leaks.unmount([str(point) for point in made])


@pytest.fixture
def netns() -> Iterator[Path]:
    """A named network namespace (``ip netns add``); its path under /run/netns."""
    name = f"dockyard-test-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield Path("/run/netns") / name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
