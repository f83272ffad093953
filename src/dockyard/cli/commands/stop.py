"""Stop one or more running containers."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
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
    Flag("signal", "s", VALUE, help="Signal to send to the container"),
]


def timeout_of(p: Parsed) -> int | None:
    from dockyard.engine.parse import parse_int

    text = str(p.time or p.timeout)
    return parse_int(text, "--time") if text else None


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import stop

    engine = ctx.engine()
    timeout = timeout_of(p)

    def act(name: str) -> str:
        stop(engine, name, timeout, str(p.signal))
        return name

    return for_each("stop", p.args, act)
