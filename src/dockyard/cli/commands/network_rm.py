"""Remove one or more networks."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "NETWORK [NETWORK...]"
FLAGS = [Flag("force", "f", help="Do not error if the network does not exist")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.errors import DockyardError, InvalidArgument, NotFound

    if not p.args:
        raise InvalidArgument('"network rm" requires at least 1 argument')
    status = 0
    for name in p.args:
        try:
            ctx.engine().networks.remove(name)
        except NotFound as exc:
            if p.force:
                continue
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            status = 1
            continue
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            status = 1
            continue
        sys.stdout.write(name + "\n")
    return status
