"""Operations and leases between real processes: who is alive, who cleans up, what is leased."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dockyard.errors import HostError
from dockyard.storage.operations import begin, clean_all, clean_dead, live_leases, start
from dockyard.storage.store import Store


class Child:
    def __init__(self, pid: int, name: str) -> None:
        self.pid = pid
        self.name = name
        self.alive = True

    def kill(self) -> None:
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.alive = False


@contextmanager
def operation_in_child(store: Store, lease: str = "") -> Iterator[Child]:
    """A child process that starts an operation (leasing ``lease``) and waits to be killed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            with begin(store) as op:
                if lease:
                    op.lease(layers=[lease])
                os.write(write, op.name.encode())
                time.sleep(60)
        finally:
            os._exit(0)
    os.close(write)
    child = Child(pid, "")
    try:
        child.name = os.read(read, 100).decode()
        os.close(read)
        yield child
    finally:
        child.kill()


def test_a_live_operation_is_left_alone_and_a_dead_one_is_removed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with operation_in_child(store) as child:
        (store.tmp_dir / child.name / "partial").write_text("work")

        assert clean_dead(store) == []
        assert (store.tmp_dir / child.name / "partial").exists()

        child.kill()
        assert clean_dead(store) == [child.name]
        assert os.listdir(store.tmp_dir) == []
        assert clean_dead(store) == []  # a second cleaner finds nothing to do


def test_a_lock_file_not_yet_locked_is_never_taken_over(tmp_path: Path) -> None:
    """A cleaner may unlink a fresh, unlocked lock file: its owner sees that and starts
    again under another name, so it never runs without a lock file of its own."""
    store = Store(tmp_path)
    fresh = store.tmp_dir / "op-fresh.lock"
    fresh.touch()  # what an owner has between its O_EXCL open and its flock
    assert clean_dead(store) == ["op-fresh"]
    op = start(store)
    try:
        assert (store.tmp_dir / f"{op.name}.lock").exists()
        assert clean_dead(store) == []
    finally:
        op.close()


def test_leases_count_while_their_operation_lives(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with operation_in_child(store, lease="sha256:" + "a" * 64) as child:
        with store.locked("gc.lock"):
            assert live_leases(store) == ({"sha256:" + "a" * 64}, set())
        child.kill()
        with store.locked("gc.lock"):
            assert live_leases(store) == (set(), set())


def test_orphans_are_only_judged_with_the_store_to_ourselves(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (store.tmp_dir / "someone-elses").mkdir()
    with begin(store):
        assert (store.tmp_dir / "someone-elses").exists()  # begin cleaned, left it
    with store.exclusive():
        left = clean_all(store, dry_run=True)
        assert left.orphans == ["someone-elses"]
        clean_all(store)
    assert os.listdir(store.tmp_dir) == []


def test_operations_nest_in_one_process_and_exclusive_refuses_inside(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with begin(store) as outer, begin(store) as inner:
        assert outer.name != inner.name
        with (
            pytest.raises(HostError, match="exclusively inside an operation"),
            store.exclusive(),
        ):
            pass
    assert os.listdir(store.tmp_dir) == []
