"""How a process of the container enters the container's cgroup by itself.

A single thread writing "0" to a v1 "tasks" file moves itself, and the
kernel skips the global lock (and the RCU grace period) a write to
cgroup.procs takes; on v2 a process born with clone3(CLONE_INTO_CGROUP)
needs no move at all.
"""

from __future__ import annotations

import posix


def tasks_files(paths: dict[str, str]) -> list[str]:
    """The v1 "tasks" file of every hierarchy in ``paths`` ("" is the unified one)."""
    return sorted({f"{d}/tasks" for key, d in paths.items() if key})


def cgroup_self_join(paths: dict[str, str]) -> tuple[list[str], int | None]:
    """How a process enters a cgroup by itself: the v1 "tasks" files it writes
    "0" to, and a descriptor of the v2 directory to fork into (CLONE_INTO_CGROUP)."""
    v2 = (
        posix.open(paths[""], posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        if "" in paths
        else None
    )
    return tasks_files(paths), v2


def join_v1_cgroups(tasks_files: list[str]) -> None:
    """Move this process into the cgroup of every v1 hierarchy."""
    for tasks in tasks_files:
        fd = posix.open(tasks, posix.O_WRONLY | posix.O_CLOEXEC)
        try:
            posix.write(fd, b"0")
        finally:
            posix.close(fd)
