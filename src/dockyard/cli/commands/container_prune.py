"""Remove all stopped containers."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import LIST, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("filter", kind=LIST, help='Provide filter values (e.g. "until=<timestamp>")'),
    Flag("force", "f", help="Do not prompt for confirmation"),
]
WARNING = "WARNING! This will remove all stopped containers."


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._prune import confirmed
    from dockyard.engine.prune import parse_filters, prune_containers
    from dockyard.oci.units import human_size

    _args.none("container prune", p.args)
    filters = parse_filters(list(p.filter))
    if not confirmed(WARNING, bool(p.force)):
        return 0
    deleted, reclaimed = prune_containers(ctx.engine(), filters)
    if deleted:
        sys.stdout.write("Deleted Containers:\n" + "".join(f"{i}\n" for i in deleted) + "\n")
    sys.stdout.write(f"Total reclaimed space: {human_size(reclaimed, 4)}\n")
    return 0
