"""Restart one or more containers."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
from dockyard.cli.commands.stop import timeout_of
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
MIN_ARGS = 1
FLAGS = [
    Flag("time", "t", VALUE, help="Seconds to wait before killing the container"),
    Flag("timeout", kind=VALUE, help="Alias of --time"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import restart

    engine = ctx.engine()
    timeout = timeout_of(p)

    def act(name: str) -> str:
        restart(engine, name, timeout)
        return name

    return for_each("restart", p.args, act)
