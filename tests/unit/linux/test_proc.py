"""Signals through pidfds: never to a process that took a pid after its owner was reaped."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from dockyard.linux import proc


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    with subprocess.Popen(["sleep", "30"]) as child:
        try:
            yield child
        finally:
            child.kill()


def started(pid: int) -> int:
    time = proc.start_time(pid)
    assert time is not None
    return time


def test_send_signal_reaches_the_process_it_names(sleeper: subprocess.Popen[bytes]) -> None:
    assert proc.send_signal(sleeper.pid, started(sleeper.pid), signal.SIGTERM)

    assert sleeper.wait(timeout=5) == -signal.SIGTERM


def test_signal_0_only_says_it_is_there(sleeper: subprocess.Popen[bytes]) -> None:
    assert proc.send_signal(sleeper.pid, started(sleeper.pid), 0)

    assert sleeper.poll() is None


def test_a_pid_held_by_another_process_is_not_signalled(
    sleeper: subprocess.Popen[bytes],
) -> None:
    # The recorded start time is another process's: the one we meant is gone.
    assert not proc.send_signal(sleeper.pid, started(sleeper.pid) - 1, signal.SIGTERM)

    assert sleeper.poll() is None


def test_a_reaped_process_is_gone(sleeper: subprocess.Popen[bytes]) -> None:
    time = started(sleeper.pid)
    sleeper.kill()
    sleeper.wait()

    assert not proc.send_signal(sleeper.pid, time, signal.SIGTERM)
    assert proc.open_pidfd(sleeper.pid, time) is None


def test_the_pidfd_is_opened_before_the_process_is_checked(
    sleeper: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked first, the pid could change hands between the check and the
    # open, and the pidfd would be a stranger's.
    calls: list[str] = []
    pidfd_open, is_alive = os.pidfd_open, proc.is_alive

    def record_open(pid: int, flags: int = 0) -> int:
        calls.append("pidfd_open")
        return pidfd_open(pid, flags)

    def record_check(pid: int, time: int) -> bool:
        calls.append("check")
        return is_alive(pid, time)

    monkeypatch.setattr(proc.posix, "pidfd_open", record_open)
    monkeypatch.setattr(proc, "is_alive", record_check)

    pidfd = proc.open_pidfd(sleeper.pid, started(sleeper.pid))

    assert pidfd is not None
    os.close(pidfd)
    assert calls == ["pidfd_open", "check"]


def test_signal_listed_skips_a_pid_no_longer_listed() -> None:
    # The second listing is what a cgroup holds once the pidfds are open: a
    # pid that left it (and may now be anyone's) gets nothing.
    with (
        subprocess.Popen(["sleep", "30"]) as member,
        subprocess.Popen(["sleep", "30"]) as former,
    ):
        try:
            listings = iter([[member.pid, former.pid], [member.pid]])

            signalled = proc.signal_listed(lambda: next(listings), signal.SIGTERM)

            assert signalled == [member.pid]
            assert member.wait(timeout=5) == -signal.SIGTERM
            assert former.poll() is None
        finally:
            member.kill()
            former.kill()
