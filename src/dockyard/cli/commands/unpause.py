"""Unpause all processes within one or more containers."""

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
    from dockyard.engine.pause import unpause

    engine = ctx.engine()

    def act(name: str) -> str:
        unpause(engine, name)
        return name

    return for_each("unpause", p.args, act)
