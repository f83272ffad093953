"""Rename a container."""

from __future__ import annotations

from dockyard.cli.commands import _args
from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER NEW_NAME"
FLAGS: list[Flag] = []
ERROR_PREFIX = "Error response from daemon: "


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.rename import rename

    old, new = _args.exactly("rename", p.args, 2)
    rename(ctx.engine(), old, new)
    return 0
