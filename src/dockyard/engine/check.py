"""``system check`` for the engine: records and what is on the host, made to agree.

A ``dockyard`` killed at any point (SIGKILL, a power cut) leaves the
database and the host consistent enough for the next command, which
finishes or undoes what it meets. This check looks at everything at once
and repairs what no command would meet:

- a container whose monitor died (it still says running): its processes
  are killed and it is marked exited (255), as any command that looks would;
- a removal that was cut short (``removing``): finished;
- a ``--rm`` container that exited but was not removed: removed;
- a stopped container still holding its root mount, runtime state, run
  directory, cgroup or a live monitor (a ``start`` killed half-way): released;
- an exited container without a snapshot: a fresh one from its image;
- a damaged record: removed with everything of its container;
- snapshots, container directories, run directories, runtime states, lock
  files, cgroups and monitors of containers that have no record: removed;
- exec sessions' directories that no client and no monitor holds (a killed
  CLI, a killed monitor; engine/check_exec.py): removed;
- network namespaces, veths, published ports' rules and rows of containers
  that are not running (engine/net_check.py): removed.

Every container is handled under its lock, taken without waiting: one a
command is working on is left to that command. What exists on the host is
listed before the records are read, and a container makes its record
before anything else, so a container being created meanwhile is never taken
for a leftover.
"""

from __future__ import annotations

import posix

from dockyard.engine import leftovers
from dockyard.engine.record import field, record
from dockyard.engine.status import Status
from dockyard.errors import DockyardError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

RUNNING_LIKE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


@record
class EngineReport:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unrepaired: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # containers a command held: not checked


class _Check:
    def __init__(self, engine: Engine, repair: bool) -> None:
        self.engine = engine
        self.repair = repair
        self.report = EngineReport()

    def found(self, problem: str, fix: Callable[[], str] | None) -> None:
        """Record ``problem``; with repair on, run ``fix`` (it says what it did)."""
        self.report.problems.append(problem)
        if not self.repair:
            return
        if fix is None:
            self.report.unrepaired.append(problem)
            return
        try:
            self.report.repaired.append(fix())
        except (DockyardError, OSError) as exc:
            self.report.unrepaired.append(f"{problem} ({exc})")


def check(engine: Engine, repair: bool = True) -> EngineReport:
    c = _Check(engine, repair)
    # the host first, the records after (see the module's docstring)
    host = {
        "snapshot": leftovers.snapshots(engine),
        "container directory": leftovers.container_dirs(engine),
        "run directory": leftovers.run_dirs(engine),
        "runtime state": leftovers.runtime_states(engine),
        "lock file": leftovers.lock_files(engine),
    }
    monitors = leftovers.monitors(engine)
    records, damaged = _records(engine)
    cgroups = leftovers.cgroups(
        leftovers.cgroup_parents(engine, [r.host.cgroup_parent for r in records])
    )
    for container_id in damaged:
        c.found(
            f"container {container_id[:12]}: its record cannot be read",
            lambda i=container_id: _drop_record(engine, i),  # type: ignore[misc]
        )
    known = {r.id for r in records}
    for rec in records:
        _check_container(c, rec, monitors, cgroups)
    # Stores may share a run root (and a cgroup parent): what is there is ours only
    # if something of this store's names the id (its snapshot or directory, a monitor
    # or runtime state that points into this store).
    ours = (
        host["snapshot"] | host["container directory"] | host["runtime state"] | set(monitors)
    ) - known
    orphans: dict[str, list[str]] = {}
    for kind, ids in host.items():
        for container_id in ids & ours:
            orphans.setdefault(container_id, []).append(kind)
    for container_id in set(monitors) & ours:
        orphans.setdefault(container_id, []).append("monitor process")
    for container_id in set(cgroups) & ours:
        orphans.setdefault(container_id, []).append("cgroup")
    for container_id, kinds in sorted(orphans.items()):
        c.found(
            f"container {container_id[:12]} has no record but left: {', '.join(sorted(kinds))}",
            lambda i=container_id: _remove_orphan(engine, i, monitors, cgroups),  # type: ignore[misc]
        )
    # Lock files alone are claimed by nobody (stores may share a run root), but an
    # unheld one of a container this store lacks is safe to remove anyway: a lock
    # file is made again when it is needed, and a waiter on a removed one retries.
    stale = host["lock file"] - known - ours - host["run directory"]
    if stale:
        c.found(
            f"{len(stale)} lock files of containers that do not exist",
            lambda: _remove_locks(engine, stale),
        )
    _check_exec(c)
    _check_network(c)
    return c.report


def _check_exec(c: _Check) -> None:
    """Exec sessions' directories that no client and no monitor will remove."""
    from dockyard.engine import check_exec

    for name in check_exec.abandoned(c.engine):
        c.found(
            check_exec.describe(c.engine, name),
            lambda n=name: check_exec.remove(c.engine, n),  # type: ignore[misc]
        )


def _remove_locks(engine: Engine, ids: set[str]) -> str:
    removed = 0
    for container_id in ids:
        lock = engine.lock(container_id)
        if lock.acquire(wait=False):
            lock.release(remove=True)
            removed += 1
    return f"removed {removed} stale lock files"


def _detached(what: str) -> Callable[[], str]:
    return lambda: f"detached the {what}"


def _check_network(c: _Check) -> None:
    """Namespace files, veths, port rules and rows of containers that are not running
    (after the containers' own checks, which settle which those are)."""
    from dockyard.engine import net_check

    found = net_check.find(c.engine)
    left: set[str] = set()
    if found and c.repair:
        for attempt in range(2):
            try:
                net_check.repair(c.engine)
                break
            except Exception:  # a veth that went with its namespace meanwhile, say
                if attempt:
                    left = set(net_check.find(c.engine))
    for problem in found:
        fix = None if problem in left else (lambda p=problem: f"removed the {p}")
        c.found(problem, fix)
    if c.repair:
        for swept in net_check.sweep_other_engines(c.engine):
            c.found(swept, _detached(swept))


def _records(engine: Engine) -> tuple[list[ContainerRecord], list[str]]:
    """Every readable record, and the ids of those that cannot be read."""
    from dockyard.engine.container_table import _load

    good, bad = [], []
    for container_id, doc in engine.db.query("SELECT id, doc FROM containers"):
        try:
            good.append(_load(doc))
        except (ValueError, TypeError, KeyError):
            bad.append(container_id)
    return good, bad


def _drop_record(engine: Engine, container_id: str) -> str:
    with engine.db.transaction() as tx:
        engine.volumes.release(tx, container_id)
        engine.containers.delete(container_id, tx)
    return f"container {container_id[:12]}: removed its damaged record (what it left goes next)"


def _check_container(
    c: _Check, rec: ContainerRecord, monitors: dict[str, int], cgroups: dict[str, str]
) -> None:
    engine = c.engine
    lock = engine.lock(rec.id)
    if not lock.acquire(wait=False):
        c.report.busy.append(rec.id)
        return
    try:
        try:
            rec = engine.containers.get(rec.id)
        except NotFound:
            return  # removed meanwhile
        _check_locked(c, rec, monitors, cgroups)
    finally:
        lock.release()


def _check_locked(
    c: _Check, rec: ContainerRecord, monitors: dict[str, int], cgroups: dict[str, str]
) -> None:
    from dockyard.engine.exits import current_status, read_exit

    engine, name = c.engine, rec.name
    if rec.status == Status.REMOVING:
        c.found(f"container {name}: its removal was cut short", lambda: _finish_removal(c, rec))
        return
    if rec.status in RUNNING_LIKE:
        if read_exit(engine, rec.id) is not None:
            c.found(
                f"container {name} has exited but nobody cleaned up after it",
                lambda: _cleaned(c, rec, "cleaned up after it"),
            )
        elif not leftovers.is_monitor_of(rec.state.monitor_pid, rec.id):
            c.found(
                f"container {name} is {rec.status} but its monitor is gone",
                lambda: _cleaned(c, rec, "stopped it and marked it exited"),
            )
        return
    status = current_status(engine, rec)
    if rec.host.auto_remove and status == Status.EXITED:
        c.found(f"container {name} (--rm) has exited but was not removed", lambda: _remove(c, rec))
        return
    _check_stopped(c, rec, monitors, cgroups)


def _check_stopped(
    c: _Check, rec: ContainerRecord, monitors: dict[str, int], cgroups: dict[str, str]
) -> None:
    """A created, exited or dead container holds nothing that runs."""
    engine, name = c.engine, rec.name
    runtime = engine.runtime_for(rec.host.runtime)
    if rec.id in monitors or runtime.state(rec.id) is not None:
        c.found(
            f"container {name} is {rec.status} but its runtime state or monitor is still there",
            lambda: _release_runtime(c, rec, monitors.get(rec.id, 0)),
        )
    if rec.id in cgroups:
        c.found(
            f"container {name} is {rec.status} but its cgroup is still there",
            lambda: _release_cgroup(rec.id, cgroups[rec.id], name),
        )
    run_dir = engine.paths.run_dir(rec.id)
    if posix.access(run_dir, posix.F_OK) and not leftovers.foreground_held(run_dir):
        c.found(
            f"container {name} is {rec.status} but its run directory is still there",
            lambda: _remove_run_dir(engine, rec.id, name),
        )
    if leftovers.is_mounted(f"{engine.paths.container_dir(rec.id)}/shm"):
        c.found(
            f"container {name} is {rec.status} but its shareable /dev/shm is still mounted",
            lambda: _unmount_shm(engine, rec.id, name),
        )
    root = leftovers.rootfs(engine, rec.id)
    if rec.status != Status.CREATED and leftovers.is_mounted(root):
        c.found(
            f"container {name} is {rec.status} but its root filesystem is still mounted",
            lambda: _unmount(engine, rec.id, name),
        )
    if rec.status != Status.CREATED and not _has_snapshot(engine, rec.id):
        c.found(
            f"container {name} has no snapshot (its root filesystem and changes are lost)",
            lambda: _fresh_snapshot(engine, rec),
        )


# ---------------------------------------------------------------- repairs


def _finish_removal(c: _Check, rec: ContainerRecord) -> str:
    from dockyard.engine.remove import remove_everything

    remove_everything(c.engine, rec, volumes=rec.host.auto_remove)
    return f"container {rec.name}: finished its removal"


def _cleaned(c: _Check, rec: ContainerRecord, what: str) -> str:
    from dockyard.engine.exits import cleanup

    after = cleanup(c.engine, rec)
    if rec.host.auto_remove:
        return f"container {rec.name}: {what}, and removed it (--rm)"
    return f"container {rec.name}: {what} (exit code {after.state.exit_code})"


def _remove(c: _Check, rec: ContainerRecord) -> str:
    from dockyard.engine.remove import remove_everything

    remove_everything(c.engine, rec, volumes=True)
    return f"container {rec.name}: removed it (--rm)"


def _release_runtime(c: _Check, rec: ContainerRecord, monitor: int) -> str:
    """A start cut short: its monitor first (SIGKILL: it runs no exit command, which
    would wait for our lock and act on what we leave), then the container, then the
    monitor's files."""
    from dockyard.engine.exits import remove_run_dir

    _kill(monitor or leftovers.read_pid(c.engine, rec.id), rec.id)
    runtime = c.engine.runtime_for(rec.host.runtime)
    try:
        runtime.delete(rec.id, force=True)
    except NotFound:
        pass
    remove_run_dir(c.engine, rec.id)
    return f"container {rec.name}: deleted its runtime state and stopped its monitor"


def _release_cgroup(container_id: str, path: str, name: str) -> str:
    leftovers.remove_cgroup(path, container_id)
    return f"container {name}: removed its cgroup"


def _remove_run_dir(engine: Engine, container_id: str, name: str) -> str:
    from dockyard.engine.exits import remove_run_dir

    remove_run_dir(engine, container_id)
    return f"container {name}: removed its run directory"


def _unmount(engine: Engine, container_id: str, name: str) -> str:
    from dockyard.engine.bundle import unmount_rootfs

    unmount_rootfs(engine.images, container_id)
    return f"container {name}: unmounted its root filesystem"


def _unmount_shm(engine: Engine, container_id: str, name: str) -> str:
    from dockyard.engine.ipc import unmount_shm

    unmount_shm(engine.paths, container_id)
    return f"container {name}: unmounted its /dev/shm"


def _has_snapshot(engine: Engine, container_id: str) -> bool:
    try:
        engine.images.store.snapshots.get(container_id)
    except DockyardError:
        return False
    return True


def _fresh_snapshot(engine: Engine, rec: ContainerRecord) -> str:
    from dockyard.engine.bundle import mount_rootfs, unmount_rootfs

    try:
        engine.images.store.images.get(rec.image_id)
    except NotFound:
        raise NotFound(f"its image {rec.image_id[7:19]} is gone too: remove it with rm") from None
    mount_rootfs(engine.images, rec)
    unmount_rootfs(engine.images, rec.id)
    return f"container {rec.name}: made it a fresh snapshot from its image"


def _kill(pid: int, container_id: str) -> None:
    """SIGKILL the monitor ``pid``, if it still is ``container_id``'s (pids are reused)."""
    if leftovers.is_monitor_of(pid, container_id):
        try:
            posix.kill(pid, 9)
        except ProcessLookupError:
            pass


def _remove_orphan(
    engine: Engine, container_id: str, monitors: dict[str, int], cgroups: dict[str, str]
) -> str:
    """Everything a container without a record left, under its lock (nobody else's then)."""
    from dockyard.engine.exits import remove_run_dir
    from dockyard.engine.volumes import remove_tree

    lock = engine.lock(container_id)
    if not lock.acquire(wait=False):
        raise DockyardError("a command holds its lock; run the check again later")
    try:
        if engine.db.query("SELECT 1 FROM containers WHERE id = ?", (container_id,)):
            return f"container {container_id[:12]}: it has a record now; left alone"
        for name in ("runc", "crun", "dockyard"):  # whose state it is, nothing says
            try:
                engine.runtime_for(name).delete(container_id, force=True)
            except DockyardError:
                pass
        _kill(monitors.get(container_id, 0), container_id)
        if container_id in cgroups:
            leftovers.remove_cgroup(cgroups[container_id], container_id)
        try:
            engine.images.store.snapshots.remove(container_id)
        except NotFound:
            pass
        remove_run_dir(engine, container_id)
        from dockyard.engine.ipc import unmount_shm

        unmount_shm(engine.paths, container_id)  # before its directory: a shareable's tmpfs
        remove_tree(engine.paths.container_dir(container_id))
    finally:
        lock.release(remove=True)
    return f"container {container_id[:12]}: removed what it left"
