"""``export``: a container's root filesystem as a plain tar (``docker export``).

The tar is read from the container's mounted root, as it looks from inside
(volumes and bind mounts not included: they are mounted in the container's
own mount namespace, as with Docker). A stopped container's root is mounted
for the export and unmounted after, under the container lock so that a
``start`` waits for it. A running container is read without the lock, through
a descriptor of its root taken under it: if it stops meanwhile, the lazily
unmounted root stays readable until the export ends.
"""

from __future__ import annotations

import posix

from dockyard.engine.status import Status
from dockyard.errors import Conflict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

    from dockyard.engine.engine import Engine

RUNNING_LIKE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def export(engine: Engine, name: str, out: IO[bytes]) -> None:
    """Write the container ``name``'s filesystem to ``out`` as a tar."""
    from dockyard.engine.bundle import mount_rootfs, unmount_rootfs
    from dockyard.engine.exits import current_status
    from dockyard.storage.differ import write_tree

    rec = engine.containers.find(name)
    lock = engine.lock(rec.id)
    lock.acquire()
    try:
        rec = engine.containers.get(rec.id)
        status = current_status(engine, rec)
        if status in (Status.REMOVING, Status.DEAD):
            raise Conflict(f"cannot export container {rec.name}: it is {status}")
        root = f"{engine.images.store.root}/snapshots/{rec.id}/rootfs"
        mounted_before = _is_mount(root)
        rootfs = str(mount_rootfs(engine.images, rec))
        fd = posix.open(rootfs, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        try:
            if status in RUNNING_LIKE:
                lock.release()
                write_tree(fd, out)
            else:
                try:
                    write_tree(fd, out)
                finally:
                    if not mounted_before:
                        unmount_rootfs(engine.images, rec.id)
        finally:
            posix.close(fd)
    finally:
        lock.release()


def _is_mount(path: str) -> bool:
    import os.path

    return os.path.ismount(path)
