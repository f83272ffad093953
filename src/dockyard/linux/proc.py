"""Facts about processes read from /proc."""

from __future__ import annotations

import posix


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
