"""Display the running processes of a container."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER [ps OPTIONS]"
FLAGS: list[Flag] = []
INTERSPERSED = False  # everything after the container is for ps
ERROR_PREFIX = "Error response from daemon: "


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.formatter.tabwriter import format_table
    from dockyard.engine.top import top
    from dockyard.errors import InvalidArgument

    if not p.args:
        raise InvalidArgument('"top" requires at least 1 argument')
    found = top(ctx.engine(), p.args[0], p.args[1:])
    lines = ["\t".join(row) + "\n" for row in [found.titles, *found.processes]]
    sys.stdout.write(format_table("".join(lines), minwidth=20))  # docker top's tabwriter
    return 0
