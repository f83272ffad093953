"""Restart a container its restart policy brought back (run by its backoff timer; not for users)."""

from __future__ import annotations

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER TOKEN"
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.restart import autorestart
    from dockyard.errors import InvalidArgument

    if len(p.args) != 2:
        raise InvalidArgument('"container autorestart" takes a container id and its restart token')
    autorestart(ctx.engine(), p.args[0], p.args[1])
    return 0
