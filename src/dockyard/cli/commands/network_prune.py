"""Remove all unused networks."""

from __future__ import annotations

import sys

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


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.network_filters import matcher

    keep = matcher(list(p.filter), ("label", "label!", "until"))
    if not p.force:
        sys.stdout.write(
            "WARNING! This will remove all custom networks not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] "
        )
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    engine = ctx.engine()
    removed = engine.networks.prune(keep)
    from dockyard.engine.net_check import repair

    repair(engine)  # what killed runs left: interfaces, rules, namespace files
    if removed:
        sys.stdout.write("Deleted Networks:\n" + "".join(f"{n}\n" for n in removed))
    return 0
