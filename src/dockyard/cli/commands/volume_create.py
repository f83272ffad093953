"""Create a volume."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] [VOLUME]"
FLAGS = [
    Flag("driver", "d", VALUE, default="local", help="Specify volume driver name"),
    Flag("label", kind=LIST, help="Set metadata for a volume"),
    Flag("name", kind=VALUE, help="Specify volume name"),
    Flag("opt", "o", LIST, help="Set driver specific options"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.parse import labels
    from dockyard.errors import InvalidArgument

    if len(p.args) > 1 or (p.args and p.name and p.args[0] != p.name):
        raise InvalidArgument("conflicting options: either specify --name or provide one name")
    name = p.args[0] if p.args else str(p.name)
    options = {}
    for item in p.opt:
        key, _, value = item.partition("=")
        options[key] = value
    vol = ctx.engine().volumes.create(
        name,
        labels(list(p.label)),
        str(p.driver),
        options,
    )
    sys.stdout.write(vol.name + "\n")
    return 0
