"""Inspect changes to files or directories on a container's filesystem."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER"
FLAGS: list[Flag] = []
ERROR_PREFIX = "Error response from daemon: "


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.changes import container_changes

    (name,) = _args.exactly("diff", p.args, 1)
    sys.stdout.write("".join(f"{change}\n" for change in container_changes(ctx.engine(), name)))
    return 0
