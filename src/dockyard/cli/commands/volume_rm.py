"""Remove one or more volumes."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] VOLUME [VOLUME...]"
FLAGS = [Flag("force", "f", help="Force the removal of one or more volumes")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.errors import DockyardError, InvalidArgument

    if not p.args:
        raise InvalidArgument('"volume rm" requires at least 1 argument')
    engine = ctx.engine()
    status = 0
    for name in p.args:
        try:
            engine.volumes.remove(name, force=bool(p.force))
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            status = 1
            continue
        sys.stdout.write(name + "\n")
    return status
