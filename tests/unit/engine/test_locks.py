"""Per-container locks: exclusive, released when the holder dies, safe against removal."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from dockyard.engine.locks import ContainerLock


def test_a_second_holder_waits_until_the_first_releases(tmp_path: Path) -> None:
    path = str(tmp_path / "locks" / "abc")
    first = ContainerLock(path)
    assert first.acquire()

    assert ContainerLock(path).acquire(wait=False) is False
    first.release()
    second = ContainerLock(path)
    assert second.acquire(wait=False) is True
    second.release()


def test_a_killed_holder_leaves_the_lock_free(tmp_path: Path) -> None:
    path = str(tmp_path / "abc")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        ContainerLock(path).acquire()
        os.write(write, b"x")
        signal.pause()
    os.read(read, 1)
    assert ContainerLock(path).acquire(wait=False) is False

    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    assert ContainerLock(path).acquire(wait=False) is True


def test_a_lock_removed_by_its_holder_is_taken_afresh(tmp_path: Path) -> None:
    path = str(tmp_path / "abc")
    holder = ContainerLock(path)
    holder.acquire()
    stale_fd = os.open(path, os.O_RDWR)  # what a waiter opened before the removal
    holder.release(remove=True)

    waiter = ContainerLock(path)
    assert waiter.acquire(wait=False)
    assert os.fstat(waiter.fd).st_ino != os.fstat(stale_fd).st_ino
    os.close(stale_fd)
    waiter.release()


def test_a_nested_hold_lets_its_own_thread_in_and_no_one_else(tmp_path: Path) -> None:
    """restart holds the lock from its stop to its start, and both take it again."""
    import threading

    path = str(tmp_path / "nested")
    outer = ContainerLock(path)
    assert outer.acquire(nested=True)
    inner = ContainerLock(path)
    assert inner.acquire(wait=False) is True  # the same thread: at once
    inner.release()  # the outer hold goes on
    from_elsewhere: list[bool] = []
    other = threading.Thread(
        target=lambda: from_elsewhere.append(ContainerLock(path).acquire(wait=False))
    )
    other.start()
    other.join()
    assert from_elsewhere == [False]
    outer.release()
    free = ContainerLock(path)
    assert free.acquire(wait=False) is True
    free.release()
