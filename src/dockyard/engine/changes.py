"""``diff``: what a container changed in its root filesystem, as Docker lists it.

The store's differ reads the snapshot's overlay upper directory against the
image's layers (the snapshot's own record of them, so an image removed with
``rmi -f`` meanwhile does not matter). What the runtime made there to mount
over (``/etc/hosts``, ``/proc`` in an image without one) is left out, as
Docker keeps those in an "init" layer of their own: a fresh container's
diff is empty.
"""

from __future__ import annotations

from dockyard.errors import NotFound, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord
    from dockyard.storage.differ import Change

#: what Docker's init layer holds (daemon/initlayer), relative to the root
INIT_PATHS = (
    ".dockerenv",
    "dev",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "etc",
    "etc/hostname",
    "etc/hosts",
    "etc/mtab",
    "etc/resolv.conf",
    "proc",
    "sys",
)

#: docker-py's (and the Engine API's) numbers for each kind
KINDS = {"C": 0, "A": 1, "D": 2}


def upper_and_layers(engine: Engine, rec: ContainerRecord) -> tuple[Path, list[Path]]:
    """The container's upper directory and the layer directories under it, base first."""
    store = engine.images.store
    try:
        snapshot = store.snapshots.get(rec.id)
    except NotFound:
        raise NotFound(f"container {rec.name} has no root filesystem (snapshot) to read") from None
    try:
        upper = store.snapshots.upper_dir(rec.id)
    except Unsupported:
        raise Unsupported(
            f"container {rec.name} has a copied root filesystem (the vfs driver): "
            "its changes cannot be read"
        ) from None
    return upper, [store.layers.diff_dir(chain) for chain in snapshot.layers]


def container_changes(engine: Engine, name: str) -> list[Change]:
    """``docker diff``: A, C or D per path, sorted, each directory above a change listed."""
    from dockyard.storage.differ import changes

    rec = engine.containers.find(name)
    upper, layers = upper_and_layers(engine, rec)
    return changes(upper, layers, INIT_PATHS)
