"""Remove unused images (dangling ones; all unused with -a)."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.image_ops import PruneResult

DANGLING = "WARNING! This will remove all dangling images."
ALL = "WARNING! This will remove all images without at least one container associated to them."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="remove all unused images, not just dangling ones"
    )
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    parser.add_argument(
        "--filter", action="append", default=[], help='provide filter values (e.g. "until=<ts>")'
    )


def report(result: PruneResult) -> str:
    """Docker's "Deleted Images:" section ("" when nothing was deleted)."""
    if not (result.deleted or result.layers):
        return ""
    lines = ["Deleted Images:"]
    for image_id in result.deleted:
        lines += [f"untagged: {name}" for name in result.untagged.get(image_id, [])]
        lines.append(f"deleted: {image_id}")
    lines += [f"deleted: {layer}" for layer in result.layers]
    return "\n".join(lines) + "\n\n"


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.cli.commands._prune import confirmed
    from dockyard.engine.image_ops import prune
    from dockyard.engine.prune import parse_filters
    from dockyard.oci.units import human_size

    filters = parse_filters(args.filter)
    if not confirmed(ALL if args.all else DANGLING, args.force):
        return 0
    result = prune(ctx.engine(), args.all, filters)
    sys.stdout.write(report(result))
    sys.stdout.write(f"Total reclaimed space: {human_size(result.freed, 4)}\n")
    sys.stdout.write("".join(f"{note}\n" for note in result.notes))
    return 0
