"""What containers leave on the host, found by container id: for ``system check``.

Each kind of thing a container makes is found here by its id, whatever the
database says: the store's snapshot, ``<root>/containers/<id>``, the
monitor's run directory, the runtime's state, the lock file, the cgroup (in
every hierarchy) and the monitor process. `system check` (engine/check.py)
compares them with the records and removes what no record explains.
"""

from __future__ import annotations

import posix

from dockyard.engine.names import HEX

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.engine import Engine

CGROUP_ROOT = "/sys/fs/cgroup"
MONITOR = b"dockyard-monitor"


def is_id(name: str) -> bool:
    return len(name) == 64 and all(c in HEX for c in name)


def _ids_in(directory: str) -> set[str]:
    try:
        return {name for name in posix.listdir(directory) if is_id(name)}
    except OSError:
        return set()


def snapshots(engine: Engine) -> set[str]:
    return _ids_in(f"{engine.images.store.root}/snapshots")


def container_dirs(engine: Engine) -> set[str]:
    return _ids_in(engine.paths.containers)


def run_dirs(engine: Engine) -> set[str]:
    return _ids_in(f"{engine.paths.run_root}/c")


def runtime_states(engine: Engine) -> set[str]:
    """Containers the OCI runtimes know under the engine's runtime root (runc's and ours
    keep one directory per container there) whose state names this store's snapshots:
    stores may share a run root."""
    mine = f"{engine.paths.root}/snapshots/".encode()
    found = set()
    for container_id in _ids_in(engine.paths.runtime_root):
        try:
            with open(f"{engine.paths.runtime_root}/{container_id}/state.json", "rb") as f:
                if mine in f.read():
                    found.add(container_id)
        except OSError:
            continue
    return found


def lock_files(engine: Engine) -> set[str]:
    return _ids_in(f"{engine.paths.run_root}/locks")


def is_mounted(path: str) -> bool:
    import os.path

    return os.path.ismount(path)


def rootfs(engine: Engine, container_id: str) -> str:
    return f"{engine.images.store.root}/snapshots/{container_id}/rootfs"


def monitors(engine: Engine) -> dict[str, int]:
    """Live monitor processes of this store's containers: id -> pid.

    A monitor is known by its command line: ``dockyard-monitor ... --id ID`` with
    its exit file under this run root and this store's root among its exit
    command's arguments (stores may share a run root: another's are not ours).
    """
    root = engine.paths.root.encode()
    return monitors_naming(f"{engine.paths.run_root}/c/", lambda argv: root in argv)


def monitors_naming(
    prefix: str, also: Callable[[list[bytes]], bool] | None = None
) -> dict[str, int]:
    """Live ``dockyard-monitor`` processes with an argument under ``prefix`` (and
    for which ``also`` holds): the value of their ``--id`` -> pid."""
    marker = prefix.encode()
    found: dict[str, int] = {}
    for name in posix.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if not argv or MONITOR not in argv[0].rpartition(b"/")[2]:
            continue
        if not any(arg.startswith(marker) for arg in argv):
            continue
        if also is not None and not also(argv):
            continue
        for i, arg in enumerate(argv[:-1]):
            if arg == b"--id":
                found[argv[i + 1].decode(errors="replace")] = int(name)
    return found


def is_monitor_of(pid: int, container_id: str) -> bool:
    """True if ``pid`` is the live monitor of ``container_id`` (by its command line)."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return (
        bool(argv) and MONITOR in argv[0] and f"--id\0{container_id}\0".encode() in b"\0".join(argv)
    )


def read_pid(engine: Engine, container_id: str) -> int:
    """The monitor's pid as its pid file says (0: none)."""
    from dockyard.engine.launch import monitor_pid

    return monitor_pid(engine, container_id)


def foreground_held(run_dir: str) -> bool:
    """True while a foreground ``run`` holds the run directory's fg.lock."""
    from dockyard.engine.launch import FOREGROUND_LOCK
    from dockyard.engine.locks import held_by_another

    return held_by_another(f"{run_dir}/{FOREGROUND_LOCK}")


def cgroup_parents(engine: Engine, recorded: list[str]) -> set[str]:
    """The cgroup parents containers may use: the engine's default and each record's."""
    from dockyard.engine.spec import CGROUP_PARENT

    return {p for p in (engine.cgroup_parent or CGROUP_PARENT, *recorded) if p}


def cgroups(parents: set[str]) -> dict[str, str]:
    """Container cgroups found under ``parents`` in any hierarchy: id -> its cgroups path."""
    found: dict[str, str] = {}
    hierarchies = _hierarchies()
    for parent in parents:
        rel = parent.strip("/")
        for hierarchy in hierarchies:
            for container_id in _ids_in(f"{hierarchy}/{rel}"):
                found[container_id] = f"/{rel}/{container_id}"
    return found


def _hierarchies() -> list[str]:
    if posix.access(f"{CGROUP_ROOT}/cgroup.controllers", posix.F_OK):
        return [CGROUP_ROOT]
    from dockyard.cgroups.manager import v1_hierarchies

    found = [mount for _, mount in v1_hierarchies(CGROUP_ROOT)]
    if posix.access(f"{CGROUP_ROOT}/unified/cgroup.controllers", posix.F_OK):
        found.append(f"{CGROUP_ROOT}/unified")
    return found


def remove_empty_parent(parent: str) -> None:
    """Remove a cgroup parent from every hierarchy once no container uses it (rmdir
    refuses a parent that still holds one, so a racing create keeps its own)."""
    rel = parent.strip("/")
    if not rel:
        return
    for hierarchy in _hierarchies():
        try:
            posix.rmdir(f"{hierarchy}/{rel}")
        except OSError:
            pass


def remove_cgroup(cgroups_path: str, container_id: str) -> None:
    """Kill what is left in a container's cgroup and remove it from every hierarchy."""
    from dockyard.cgroups.manager import manager_for

    manager = manager_for(cgroups_path, container_id, CGROUP_ROOT)
    for _ in range(50):
        if not manager.procs():
            break
        manager.thaw()  # a frozen process cannot die
        manager.kill_all(9)
        import time

        time.sleep(0.02)
    manager.destroy()
