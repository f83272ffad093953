"""Block until one or more containers stop, then print their exit codes."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER [CONTAINER...]"
MIN_ARGS = 1
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import wait

    engine = ctx.engine()
    return for_each("wait", p.args, lambda name: str(wait(engine, name)))
