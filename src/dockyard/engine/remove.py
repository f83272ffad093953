"""``rm [-f] [-v]``: a container and everything it has made, gone.

The record is first marked ``removing`` (so no verb takes it up again),
then the runtime's state, the cgroups, the monitor's files, the rootfs
snapshot, the container directory and (with ``-v`` or ``--rm``) its
anonymous volumes are removed, and the record last. A remover killed
half-way leaves a ``removing`` record that the next ``rm`` finishes.
"""

from __future__ import annotations

import posix

from dockyard.engine import status as machine
from dockyard.engine.events import container_event
from dockyard.engine.exits import cleanup, remove_run_dir, wait_exit
from dockyard.engine.status import Status
from dockyard.errors import Conflict, HostError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

KILL_WAIT = 10.0  # seconds for a SIGKILLed container's monitor to report the exit


def remove(engine: Engine, name: str, force: bool = False, volumes: bool = False) -> str:
    """Remove the container ``name`` names; its id."""
    rec = engine.containers.find(name)
    lock = engine.lock(rec.id)
    lock.acquire()
    try:
        try:
            rec = engine.containers.get(rec.id)
        except NotFound:
            raise NotFound(f"No such container: {name}") from None
        if rec.status != Status.REMOVING:  # a removal whose remover died is taken over
            machine.require("remove -f" if force else "remove", rec.name, _live_status(engine, rec))
        if rec.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING):
            stop_now(engine, rec)
            rec = engine.containers.get(rec.id)
        remove_everything(engine, rec, volumes=volumes)
    finally:
        lock.release(remove=True)
    return rec.id


def _live_status(engine: Engine, rec: ContainerRecord) -> str:
    from dockyard.engine.exits import current_status

    return current_status(engine, rec)


def stop_now(engine: Engine, rec: ContainerRecord) -> None:
    """SIGKILL the container and handle its exit (``rm -f``, ``kill`` then cleanup)."""
    if rec.status == Status.RESTARTING:
        from dockyard.engine.restart import cancel

        cancel(engine, rec)  # nothing runs: only its pending restart to drop
        engine.containers.update(rec)
        return
    rec.state.restart_canceled = True  # this exit is not followed by a restart
    runtime = engine.runtime_for(rec.host.runtime)
    if rec.status == Status.PAUSED:
        from dockyard.engine.pause import thaw

        thaw(engine, rec)  # a frozen container cannot die of SIGKILL until thawed
    try:
        runtime.kill(rec.id, 9, all_processes=True)
        container_event(engine, rec, "kill", {"signal": "9"})
    except (Conflict, NotFound, HostError):
        pass  # gone already: the exit file says how it ended
    info = wait_exit(engine, rec, KILL_WAIT)
    cleanup(engine, rec, info)


def remove_everything(engine: Engine, rec: ContainerRecord, volumes: bool = False) -> None:
    """Everything the container made, then its record; idempotent (the caller holds the lock)."""
    from dockyard.engine.bundle import unmount_rootfs

    if rec.status != Status.REMOVING:
        rec.status = Status.REMOVING
        try:
            engine.containers.update(rec)
        except NotFound:
            pass  # removed meanwhile: what it made may not be, so go on
    runtime = engine.runtime_for(rec.host.runtime)
    try:
        runtime.delete(rec.id, force=True)
    except NotFound:
        pass
    from dockyard.engine.net_attach import teardown

    teardown(engine, rec)  # its leases go with the record (ON DELETE CASCADE)
    unmount_rootfs(engine.images, rec.id)
    from dockyard.engine.ipc import unmount_shm

    unmount_shm(engine.paths, rec.id)
    try:
        engine.images.snapshots.remove(rec.id)
    except NotFound:
        pass
    remove_run_dir(engine, rec.id)
    _remove_tree(engine.paths.container_dir(rec.id))
    try:
        # the holder (our caller) keeps its descriptor; a waiter sees the file gone
        posix.unlink(engine.paths.lock_path(rec.id))
    except FileNotFoundError:
        pass
    with engine.db.transaction() as tx:
        orphans = engine.volumes.release(tx, rec.id)
        engine.containers.delete(rec.id, tx)
        last = not tx.query("SELECT 1 FROM containers LIMIT 1")
    if last:  # the parent cgroup goes with the last container (a create records first)
        from dockyard.engine.leftovers import remove_empty_parent
        from dockyard.engine.spec import CGROUP_PARENT

        remove_empty_parent(rec.host.cgroup_parent or engine.cgroup_parent or CGROUP_PARENT)
    container_event(engine, rec, "destroy")
    if volumes:
        for name in orphans:
            try:
                engine.volumes.remove(name)
            except (Conflict, NotFound):
                pass  # another container took it up meanwhile


def _remove_tree(path: str) -> None:
    from dockyard.engine.volumes import remove_tree

    remove_tree(path)
