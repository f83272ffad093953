"""v1 net_cls and net_prio controllers: net_cls.classid and net_prio.ifpriomap."""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.errors import InvalidSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = f"{values.PREFIX}.network"


def set(cls_dir: str, prio_dir: str, network: dict[str, Any]) -> None:
    class_id = values.unsigned(network, "classID", FIELD, 2**32 - 1)
    if class_id is not None:
        fs.write(cls_dir, "net_cls.classid", str(class_id), f"{FIELD}.classID")
    for i, item in enumerate(values.items(network, "priorities")):
        where = f"{FIELD}.priorities[{i}]"
        name = values.string(item, "name", where)
        priority = values.unsigned(item, "priority", where, 2**32 - 1)
        if not name or priority is None or any(c.isspace() for c in name):
            raise InvalidSpec(where, "needs an interface name and a priority")
        fs.write(prio_dir, "net_prio.ifpriomap", f"{name} {priority}", where)
