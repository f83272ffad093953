"""Remove unused data."""

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
    Flag("all", "a", help="Remove all unused images not just dangling ones"),
    Flag("filter", kind=LIST, help='Provide filter values (e.g. "label=<key>=<value>")'),
    Flag("force", "f", help="Do not prompt for confirmation"),
    Flag("volumes", help="Prune anonymous volumes"),
]


def warning(all_images: bool, volumes: bool, filters: list[str]) -> str:
    """docker/cli's confirmation message, item for item."""
    items = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        items.append("all anonymous volumes not used by at least one container")
    if all_images:
        items.append("all images without at least one container associated to them")
        items.append("all build cache")
    else:
        items.append("all dangling images")
        items.append("unused build cache")
    text = "WARNING! This will remove:\n" + "".join(f"  - {item}\n" for item in items)
    if filters:
        text += "\n  Items to be pruned will be filtered with:\n"
        text += "".join(f"  - {item}\n" for item in filters)
    return text


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._prune import confirmed
    from dockyard.cli.commands.image_prune import report
    from dockyard.engine.image_ops import prune as prune_images
    from dockyard.engine.prune import parse_filters, prune_containers, prune_volumes
    from dockyard.errors import InvalidArgument
    from dockyard.oci.units import human_size

    _args.none("system prune", p.args)
    items = list(p.filter)
    filters = parse_filters(items)
    if p.volumes and filters.until_ns:
        raise InvalidArgument('The "until" filter is not supported with "--volumes"')
    if not confirmed(warning(bool(p.all), bool(p.volumes), items).rstrip("\n"), bool(p.force)):
        return 0
    engine = ctx.engine()
    out = sys.stdout
    deleted, reclaimed = prune_containers(engine, filters)
    if deleted:
        out.write("Deleted Containers:\n" + "".join(f"{i}\n" for i in deleted) + "\n")
    if p.volumes:
        names, freed = prune_volumes(engine, filters)
        reclaimed += freed
        if names:
            out.write("Deleted Volumes:\n" + "".join(f"{n}\n" for n in names) + "\n")
    images = prune_images(engine, bool(p.all), filters)
    reclaimed += images.freed
    out.write(report(images))
    out.write(f"Total reclaimed space: {human_size(reclaimed, 4)}\n")
    out.write("".join(f"{note}\n" for note in images.notes))
    return 0
