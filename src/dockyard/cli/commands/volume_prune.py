"""Remove unused local volumes."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("all", "a", help="Remove all unused volumes, not just anonymous ones"),
    Flag("filter", kind=LIST, help="Provide filter values (e.g. label=<label>)"),
    Flag("force", "f", help="Do not prompt for confirmation"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.parse import labels
    from dockyard.engine.sizes import human_size, tree_size
    from dockyard.errors import InvalidArgument

    wanted: dict[str, str] = {}
    for item in p.filter:
        key, _, value = item.partition("=")
        if key != "label":
            raise InvalidArgument(f"invalid filter '{key}'")
        wanted.update(labels([value]))
    if not p.force:
        which = "local volumes" if p.all else "anonymous local volumes"
        sys.stdout.write(
            f"WARNING! This will remove {which} not used by at least one container.\n"
            "Are you sure you want to continue? [y/N] "
        )
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    engine = ctx.engine()
    sizes = {v.name: tree_size(v.mountpoint) for v in engine.volumes.all()}
    removed = engine.volumes.prune(bool(p.all), wanted)
    if removed:
        sys.stdout.write("Deleted Volumes:\n" + "".join(f"{n}\n" for n in removed) + "\n")
    total = sum(sizes.get(n, 0) for n in removed)
    sys.stdout.write(f"Total reclaimed space: {human_size(total, 4)}\n")  # go-units HumanSize
    return 0
