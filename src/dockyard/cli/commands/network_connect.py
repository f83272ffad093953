"""Connect a container to a network."""

from __future__ import annotations

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] NETWORK CONTAINER"
FLAGS = [
    Flag("alias", kind=LIST, help="Add network-scoped alias for the container"),
    Flag("ip", kind=VALUE, help="IPv4 address (e.g., 172.30.100.104)"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.net_connect import connect
    from dockyard.errors import InvalidArgument

    if len(p.args) != 2:
        raise InvalidArgument('"network connect" requires exactly 2 arguments')
    connect(ctx.engine(), p.args[1], p.args[0], list(p.alias), str(p.ip))
    return 0
