"""Start one or more stopped containers."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import start

    engine = ctx.engine()

    def act(name: str) -> str:
        start(engine, name)
        return name

    return for_each("start", p.args, act)
