"""`requires(...)`: skip a test, with the reason, when the host lacks something.

    @requires("root", "userns", "binary:runc")
    def test_...

Each need is checked once per session. The skip reason names every missing
need and why it is missing, e.g. "needs root (running as uid 1000)".
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# A check returns None when the need is met, else why it is not.
Check = Callable[[], str | None]

_SYS_OPENAT2 = 437  # the same number on every architecture
_AT_FDCWD = -100


def _root() -> str | None:
    euid = os.geteuid()
    return None if euid == 0 else f"running as uid {euid}"


def _userns() -> str | None:
    if not Path("/proc/self/ns/user").exists():
        return "kernel without user namespaces"
    limit = Path("/proc/sys/user/max_user_namespaces")
    if limit.exists() and limit.read_text().strip() == "0":
        return "user.max_user_namespaces is 0"
    return None


def _timens() -> str | None:
    if Path("/proc/self/ns/time").exists():
        return None
    return "kernel without time namespaces (needs 5.6+)"


def _openat2() -> str | None:
    # struct open_how {u64 flags; u64 mode; u64 resolve;}: all zero is a plain open.
    how = (ctypes.c_uint64 * 3)()
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(_SYS_OPENAT2, _AT_FDCWD, b"/", ctypes.byref(how), ctypes.sizeof(how))
    if fd >= 0:
        os.close(fd)
        return None
    err = ctypes.get_errno()
    return f"openat2 fails with {errno.errorcode.get(err, err)}"


def _cgroup2() -> str | None:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return None
    return "/sys/fs/cgroup is not the cgroup v2 unified hierarchy (try cgroup2-guest)"


def _cgroup1() -> str | None:
    if Path("/sys/fs/cgroup/memory/tasks").exists():
        return None
    return "no cgroup v1 memory controller at /sys/fs/cgroup/memory"


def _binary(name: str) -> Check:
    def check() -> str | None:
        return None if shutil.which(name) else f"{name} is not on PATH"

    return check


CHECKS: dict[str, Check] = {
    "root": _root,
    "userns": _userns,
    "timens": _timens,
    "openat2": _openat2,
    "cgroup2": _cgroup2,
    "cgroup1": _cgroup1,
}


@functools.cache
def missing(need: str) -> str | None:
    """Why ``need`` is not met on this host, or None when it is."""
    if need.startswith("binary:"):
        return _binary(need.removeprefix("binary:"))()
    try:
        check = CHECKS[need]
    except KeyError:
        known = ", ".join([*CHECKS, "binary:NAME"])
        raise ValueError(f"unknown need {need!r}; known: {known}") from None
    return check()


def requires(*needs: str) -> pytest.MarkDecorator:
    reasons = [f"needs {need} ({why})" for need in needs if (why := missing(need))]
    return pytest.mark.skipif(bool(reasons), reason="; ".join(reasons) or "all needs met")
