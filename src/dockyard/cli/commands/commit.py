"""Create a new image from a container's changes."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]"
FLAGS = [
    Flag("author", "a", VALUE, help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
    Flag("change", "c", LIST, help="Apply Dockerfile instruction to the created image"),
    Flag("message", "m", VALUE, help="Commit message"),
    Flag("pause", "p", default=True, help="Pause container during commit (default true)"),
]
ERROR_PREFIX = "Error response from daemon: "


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.commit import commit

    args = _args.at_most("commit", _args.at_least("commit", p.args, 1), 2)
    image_id = commit(
        ctx.engine(),
        args[0],
        args[1] if len(args) > 1 else "",
        author=str(p.author),
        message=str(p.message),
        changes=list(p.change),
        pause=bool(p.pause),
    )
    sys.stdout.write(f"{image_id}\n")
    return 0
