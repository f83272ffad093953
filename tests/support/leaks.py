"""Find what tests leave behind: marked processes, mounts, cgroups.

Test containers carry ``DOCKYARD_TEST=<session>:<test>`` in their
environment (see `marker_env`), so a leftover container process can be told
from the host by reading /proc/PID/environ, whatever the runtime did.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Collection, Iterator
from pathlib import Path

MARKER_VAR = "DOCKYARD_TEST"
CGROUP_NAME_PART = "dockyard-test"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def marker_env(marker: str) -> str:
    return f"{MARKER_VAR}={marker}"


def _processes() -> Iterator[Path]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            yield entry


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # the process is gone, or a kernel thread
        return b""


def _describe(proc: Path) -> str:
    cmdline = _read(proc / "cmdline").replace(b"\0", b" ").decode(errors="replace").strip()
    return f"pid {proc.name}: {cmdline or '?'}"


def marked_processes(marker_prefix: str) -> dict[int, str]:
    """Processes whose environment has a marker starting with ``marker_prefix``."""
    wanted = marker_env(marker_prefix).encode()
    found = {}
    for proc in _processes():
        if any(var.startswith(wanted) for var in _read(proc / "environ").split(b"\0")):
            found[int(proc.name)] = _describe(proc)
    return found


def processes_mentioning(text: str, exclude: Collection[int] = ()) -> dict[int, str]:
    """Processes whose command line contains ``text`` (a test's tmp dir, say)."""
    needle = text.encode()
    return {
        int(proc.name): _describe(proc)
        for proc in _processes()
        if int(proc.name) not in exclude and needle in _read(proc / "cmdline")
    }


def resolvers(under: str) -> dict[int, str]:
    """DNS resolvers (network/dns/resolver.c) whose directory lies under ``under``: one
    runs while an engine has a container on a user-defined network, and must be gone
    with the last."""
    found = {}
    for proc in _processes():
        argv = _read(proc / "cmdline").split(b"\0")
        if not argv[0].rpartition(b"/")[2].startswith(b"dockyard-resolver"):
            continue
        at = argv.index(b"--dir") + 1 if b"--dir" in argv else len(argv)
        if at < len(argv) and argv[at].decode(errors="replace").startswith(under):
            found[int(proc.name)] = _describe(proc)
    return found


def kill_processes(pids: set[int] | dict[int, str]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts_under(directory: Path | str) -> list[str]:
    """Mount points at or below ``directory`` in this mount namespace."""
    top = str(directory).rstrip("/")
    points = [
        _unescape(line.split()[4]) for line in Path("/proc/self/mountinfo").read_text().splitlines()
    ]
    return [point for point in points if point == top or point.startswith(top + "/")]


def unmount(points: list[str]) -> None:
    """Detach mounts, deepest first (``umount -l``, since a leaked mount may be busy)."""
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def cgroup_mounts(root: Path = CGROUP_ROOT, mountinfo: str | None = None) -> dict[Path, int]:
    """The cgroup hierarchies mounted at ``root`` or right under it, with their
    mount ids. A hierarchy unmounted and mounted again comes back with a new
    id (until the kernel hands the old one out again, which it rarely does)."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    found = {}
    for line in mountinfo.splitlines():
        fields = line.split()
        point = Path(_unescape(fields[4]))
        fstype = fields[fields.index("-") + 1]
        if fstype in ("cgroup", "cgroup2") and root in (point, point.parent):
            found[point] = int(fields[0])
    return found


def in_hierarchies(cgroups: set[Path], hierarchies: Collection[Path]) -> set[Path]:
    """The cgroups that lie in one of ``hierarchies`` (mount points)."""
    return {c for c in cgroups if any(c.is_relative_to(h) for h in hierarchies)}


def find_test_cgroups(root: Path = CGROUP_ROOT, max_depth: int = 8) -> set[Path]:
    """Cgroup directories, in every hierarchy, whose name marks them as a test's."""
    found: set[Path] = set()
    for dirpath, dirnames, _ in os.walk(root):
        depth = len(Path(dirpath).relative_to(root).parts)
        if depth >= max_depth:
            dirnames.clear()
        found.update(Path(dirpath, d) for d in dirnames if CGROUP_NAME_PART in d)
    return found


def cgroups_named(name: str, root: Path = CGROUP_ROOT, max_depth: int = 4) -> set[Path]:
    """Cgroup directories called ``name``, in every hierarchy (an engine's parent
    cgroup, say, which a test should remove if it made it)."""
    found: set[Path] = set()
    for dirpath, dirnames, _ in os.walk(root):
        if len(Path(dirpath).relative_to(root).parts) >= max_depth:
            dirnames.clear()
        found.update(Path(dirpath, d) for d in dirnames if d == name)
    return found


def with_descendants(paths: set[Path]) -> set[Path]:
    """The cgroups and every cgroup below them (remove_cgroups goes deepest first)."""
    found = set(paths)
    for path in paths:
        for dirpath, dirnames, _ in os.walk(path):
            found.update(Path(dirpath, d) for d in dirnames)
    return found


def remove_cgroups(paths: set[Path]) -> None:
    """Kill what runs in the cgroups, then remove them, deepest first."""
    for path in sorted(paths, key=lambda p: len(p.parts), reverse=True):
        for _ in range(100):
            kill_processes({int(pid) for pid in _read(path / "cgroup.procs").split()})
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:  # EBUSY until the killed processes are reaped
                time.sleep(0.02)


def ancestors(pid: int) -> set[int]:
    """``pid`` and its parents: the processes a leak check must not blame."""
    chain = set()
    while pid > 0 and pid not in chain:
        chain.add(pid)
        status = _read(Path(f"/proc/{pid}/status")).decode()
        ppid = [line.split()[1] for line in status.splitlines() if line.startswith("PPid:")]
        pid = int(ppid[0]) if ppid else 0
    return chain
