"""``rename``: give a container another name, atomically.

The new name is taken in the same transaction that frees the old one, and
the table's UNIQUE column decides between two processes that want the same
name at once: one wins, the other gets Docker's conflict message. The
container lock keeps a ``rm`` from removing the record meanwhile.
"""

from __future__ import annotations

from dockyard.engine import names
from dockyard.engine.container_table import name_in_use
from dockyard.engine.db import IntegrityError
from dockyard.engine.status import Status
from dockyard.errors import Conflict, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine


def rename(engine: Engine, old: str, new: str) -> str:
    """Rename the container ``old`` names to ``new``; its id."""
    if not old or not new:
        raise InvalidArgument("Neither old nor new names may be empty")
    rec = engine.containers.find(old)
    new = names.check_name(new)
    with engine.lock(rec.id):
        try:
            rec = engine.containers.get(rec.id)
        except NotFound:
            raise NotFound(f"No such container: {old}") from None
        if rec.name == new:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        if rec.status in (Status.REMOVING, Status.DEAD):
            raise Conflict("Can't rename container which is dead or marked for removal")
        rec.name = new
        try:
            engine.containers.update(rec)
        except IntegrityError:
            owner = engine.db.query("SELECT id FROM containers WHERE name = ?", (new,))
            raise name_in_use(new, owner[0][0] if owner else "?") from None
        from dockyard.engine.net_dns import is_member, sync

        if is_member(engine, rec.id):
            sync(engine)  # the embedded DNS answers to the new name, no longer the old
    return rec.id
