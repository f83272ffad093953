"""Record a change of a container's health (run by its monitor; not for users)."""

from __future__ import annotations

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER STATUS"
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.health import record_change
    from dockyard.errors import InvalidArgument

    if len(p.args) != 2:
        raise InvalidArgument('"container health-event" takes a container id and a status')
    record_change(ctx.engine(), p.args[0], p.args[1])
    return 0
