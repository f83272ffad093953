"""Remove one or more containers."""

from __future__ import annotations

import sys

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
MIN_ARGS = 1
FLAGS = [
    Flag("force", "f", help="Force the removal of a running container (uses SIGKILL)"),
    Flag("volumes", "v", help="Remove anonymous volumes associated with the container"),
    Flag("link", "l", help="Remove the specified link (not supported)"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.remove import remove
    from dockyard.errors import NotFound, Unsupported

    if p.link:
        raise Unsupported("--link: container links do not exist in Dockyard")
    engine = ctx.engine()

    def act(name: str) -> str | None:
        try:
            remove(engine, name, force=bool(p.force), volumes=bool(p.volumes))
        except NotFound as exc:
            if p.force:  # Docker's CLI: rm -f of a missing container says so, yet succeeds
                sys.stderr.write(f"Error response from daemon: {exc}\n")
                return None
            raise
        return name

    return for_each("rm", p.args, act)
