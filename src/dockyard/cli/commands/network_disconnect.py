"""Disconnect a container from a network."""

from __future__ import annotations

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] NETWORK CONTAINER"
FLAGS = [Flag("force", "f", help="Force the container to disconnect from a network")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.net_connect import disconnect
    from dockyard.errors import InvalidArgument

    if len(p.args) != 2:
        raise InvalidArgument('"network disconnect" requires exactly 2 arguments')
    disconnect(ctx.engine(), p.args[1], p.args[0], bool(p.force))
    return 0
