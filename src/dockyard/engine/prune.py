"""``container prune`` and the filters every prune takes (``until=``, ``label=``, ``label!=``).

A container is pruned when it is not running (created, exited or dead), was
created before ``until`` and its labels match. Each is removed through
`remove.remove`, which takes the container lock and looks at the status
again: a container started meanwhile is left alone. What was reclaimed is
what the containers wrote (their upper directories), as Docker counts it.
"""

from __future__ import annotations

from dockyard.engine.record import field, record
from dockyard.errors import Conflict, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine


@record
class LabelTest:
    key: str
    value: str | None = None  # None: the key alone
    negate: bool = False  # label!=...


@record
class PruneFilter:
    until_ns: int = 0  # 0: no limit
    labels: list[LabelTest] = field(default_factory=list)

    def matches(self, labels: dict[str, str], created_ns: int) -> bool:
        if self.until_ns and created_ns >= self.until_ns:
            return False
        for test in self.labels:
            has = test.key in labels and (test.value is None or labels[test.key] == test.value)
            if has == test.negate:
                return False
        return True


def parse_filters(items: list[str], allowed: tuple[str, ...] = ("until", "label")) -> PruneFilter:
    """``--filter`` values as Docker's prune commands take them."""
    from dockyard.engine.logs import parse_since

    out = PruneFilter()
    for item in items:
        key, sep, value = item.partition("=")
        negate = key.endswith("!")
        key = key.removesuffix("!")
        if not sep or key not in allowed or (negate and key != "label"):
            raise InvalidArgument(f"invalid filter '{item.partition('=')[0]}'")
        if key == "until":
            try:
                out.until_ns = parse_since(value)
            except InvalidArgument:
                raise InvalidArgument(
                    f"failed to parse value as time or duration: {value!r}"
                ) from None
        else:
            name, has_value, wanted = value.partition("=")
            out.labels.append(LabelTest(name, wanted if has_value else None, negate))
    return out


PRUNABLE = ("created", "exited", "dead")


def prune_containers(engine: Engine, filters: PruneFilter | None = None) -> tuple[list[str], int]:
    """Remove every stopped container the filters match: (their ids, bytes reclaimed)."""
    from dockyard.engine.clock import parse_ns
    from dockyard.engine.exits import current_status
    from dockyard.engine.remove import remove
    from dockyard.engine.sizes import tree_size

    f = filters or PruneFilter()
    deleted: list[str] = []
    reclaimed = 0
    for rec in engine.containers.all():
        if current_status(engine, rec) not in PRUNABLE:
            continue
        if not f.matches(rec.config.labels, parse_ns(rec.created)):
            continue
        size = tree_size(f"{engine.images.store.root}/snapshots/{rec.id}/upper")
        try:
            remove(engine, rec.id)
        except (Conflict, NotFound):
            continue  # started or removed meanwhile
        deleted.append(rec.id)
        reclaimed += size
    return deleted, reclaimed


def prune_volumes(engine: Engine, filters: PruneFilter | None = None) -> tuple[list[str], int]:
    """Anonymous volumes no container uses and the label filters match (``system prune
    --volumes``): (their names, bytes reclaimed)."""
    from dockyard.engine.clock import parse_ns
    from dockyard.engine.sizes import tree_size

    f = filters or PruneFilter()
    used = engine.volumes.in_use()
    removed: list[str] = []
    reclaimed = 0
    for vol in engine.volumes.all():
        if vol.name in used or not vol.anonymous:
            continue
        if not f.matches(vol.labels, parse_ns(vol.created)):
            continue
        size = tree_size(vol.mountpoint)
        try:
            engine.volumes.remove(vol.name)
        except (Conflict, NotFound):
            continue  # taken up or removed meanwhile
        removed.append(vol.name)
        reclaimed += size
    return removed, reclaimed
