"""CVE-2021-30465: a symlink swapped into the rootfs during mount setup, to
make a bind mount land outside the container's root.

A thread of the test keeps exchanging rootfs/a/b between a directory and a
symlink to a directory of the host while containers with a bind mount on
/a/b are created. Whatever the timing, the mount must land inside the rootfs
(or the create must fail): the host directory never gets it, in the host's
mount table or its contents.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import threading
from pathlib import Path

import pytest

from tests.support import Bundle, Runtime, requires
from tests.support.leaks import mounts_under, unmount

pytestmark = [pytest.mark.integration, pytest.mark.runtime, requires("root"), pytest.mark.slow]

RENAME_EXCHANGE = 2
ATTEMPTS = 25
_libc = ctypes.CDLL(None, use_errno=True)


def exchange(a: Path, b: Path) -> None:
    if _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


class Swapper:
    """Exchanges ``path`` with a symlink to ``target`` as fast as it can."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path = path
        self.other = path.with_name(path.name + ".swap")
        self.other.symlink_to(target)
        self.stop = threading.Event()
        self.swaps = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            exchange(self.path, self.other)
            self.swaps += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        if self.path.is_symlink():  # leave the directory in place
            exchange(self.path, self.other)


def test_a_swapped_symlink_never_moves_a_bind_mount_out(
    runtime: Runtime, bundle: Bundle, tmp_path: Path
) -> None:
    # A name of its own: tmp_path's name is the same in every session, and
    # two sessions running this test at once collided on it.
    host_dir = Path(tempfile.mkdtemp(prefix="dockyard-test-", suffix="-host", dir="/var/tmp"))
    source = tmp_path / "volume"
    source.mkdir()
    (source / "marker").write_text("volume\n")
    (bundle.rootfs / "a" / "b").mkdir(parents=True)
    bundle.config["root"]["readonly"] = False
    bundle.config["mounts"].append(
        {"destination": "/a/b", "type": "bind", "source": str(source), "options": ["bind"]}
    )
    bundle.process["args"] = ["sh", "-c", "cat /a/b/marker 2>/dev/null || echo missing"]
    bundle.write()
    swapper = Swapper(bundle.rootfs / "a" / "b", host_dir)
    outcomes = []
    leaked = []
    try:
        for _ in range(ATTEMPTS):
            result = runtime.run(bundle)
            outcomes.append(result.stdout.strip() if result.returncode == 0 else "refused")
            leaked += mounts_under(host_dir)
    finally:
        swapper.close()
        try:
            assert leaked == [], f"the bind mount reached the host: {leaked}"
            assert list(host_dir.iterdir()) == []
        finally:
            unmount(mounts_under(host_dir))
            host_dir.rmdir()

    assert swapper.swaps > ATTEMPTS
    # Inside the container the mount is at /a/b or where the symlink leads,
    # resolved in the container's root (the swapping goes on while it runs,
    # so it may look in the other place): the runtime never crashed.
    assert set(outcomes) <= {"volume", "missing", "refused"}, outcomes
    assert "volume" in outcomes, outcomes
