"""Facts about processes read from /proc."""

from __future__ import annotations

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None if it is gone.

    Paired with the pid it names one process for good: pids are reused,
    (pid, start time) pairs are not.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces and parentheses; fields follow the last ')'.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


def state_letter(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return chr(stat[stat.rindex(b")") + 2])


def is_alive(pid: int, started: int) -> bool:
    """True if the process ``pid`` that started at ``started`` still runs (zombies do not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    fields = stat[stat.rindex(b")") + 2 :].split()
    return fields[0] not in (b"Z", b"X") and int(fields[19]) == started


def wait_for_exit(pid: int, started: int, timeout: float) -> bool:
    """Wait until the process is gone (or a zombie); False on timeout."""
    from dockyard.linux import libc

    try:
        pidfd = posix.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        if not is_alive(pid, started):
            return True
        return bool(libc.poll([(pidfd, libc.POLLIN)], timeout))
    finally:
        posix.close(pidfd)


def open_pidfd(pid: int, started: int) -> int | None:
    """A pidfd for the process ``pid`` that started at ``started``; None when it
    is gone (or a zombie).

    The pidfd is opened first and the start time checked after: a process holds
    its pid from its birth until it is reaped, so when the check finds it, the
    pidfd is that process, and a signal sent through it cannot reach another
    that took the pid meanwhile (checking /proc and then calling kill(2) can).
    """
    try:
        pidfd = posix.pidfd_open(pid)
    except ProcessLookupError:
        return None
    if is_alive(pid, started):
        return pidfd
    posix.close(pidfd)
    return None


def send_signal(pid: int, started: int, signal: int) -> bool:
    """Signal the process (``pid``, ``started``) through a pidfd; False if it is gone."""
    from dockyard.linux import libc

    pidfd = open_pidfd(pid, started)
    if pidfd is None:
        return False
    try:
        libc.pidfd_send_signal(pidfd, signal)
    except ProcessLookupError:
        return False  # it exited since the check
    finally:
        posix.close(pidfd)
    return True


def signal_listed(list_pids: Callable[[], Iterable[int]], signal: int) -> list[int]:
    """Signal the processes ``list_pids`` names (a cgroup's, a pid namespace's)
    without hitting one that took a listed pid after its process was reaped.

    A pidfd is opened for each listed pid, then the list is read again: a pid
    still listed is a member's now, and if our pidfd is some earlier holder of
    it, that holder is dead and the signal goes nowhere. Returns the pids signalled.
    """
    from dockyard.linux import libc

    pidfds = {}
    try:
        for pid in list_pids():
            try:
                pidfds[pid] = posix.pidfd_open(pid)
            except ProcessLookupError:
                continue
        members = set(list_pids())
        signalled = []
        for pid, pidfd in pidfds.items():
            if pid in members:
                try:
                    libc.pidfd_send_signal(pidfd, signal)
                    signalled.append(pid)
                except ProcessLookupError:
                    pass  # exited since it was listed
        return signalled
    finally:
        for pidfd in pidfds.values():
            posix.close(pidfd)


def rootless() -> bool:
    """True when this process has no real root: not uid 0, or root of a user
    namespace other than the initial one (rootless podman runs runtimes so)."""
    if posix.geteuid() != 0:
        return True
    try:
        with open("/proc/self/uid_map", "rb") as f:
            mapping = f.read().split()
    except OSError:
        return False
    return mapping != [b"0", b"0", b"4294967295"]
