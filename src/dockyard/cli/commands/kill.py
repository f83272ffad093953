"""Kill one or more running containers."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
MIN_ARGS = 1
FLAGS = [Flag("signal", "s", VALUE, default="KILL", help="Signal to send to the container")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import kill

    engine = ctx.engine()

    def act(name: str) -> str:
        kill(engine, name, str(p.signal))
        return name

    return for_each("kill", p.args, act)
