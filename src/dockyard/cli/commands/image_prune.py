"""Remove unused images (dangling ones; all untagged with -a)."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import open_store, removal_report
from dockyard.cli.docker_main import Context
from dockyard.image import reference
from dockyard.oci.units import human_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="remove all unused images, not just dangling ones"
    )
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    parser.add_argument("--filter", action="append", default=[], help="(label filters only)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    deleted, untagged, collected = store.prune(args.all)
    out = sys.stdout
    if deleted or collected.layers:
        out.write("Deleted Images:\n")
        for record in deleted:
            for tag in untagged[record.id]:
                out.write(f"untagged: {reference.parse(tag).familiar}\n")
            out.write(f"deleted: {record.id}\n")
        for layer in collected.layers:
            out.write(f"deleted: {layer}\n")
        out.write("\n")
    out.write(f"Total reclaimed space: {human_size(collected.freed, 4)}\n")  # go-units HumanSize
    for line in removal_report(collected):
        if not line.startswith("Deleted: "):
            out.write(f"{line}\n")
    return 0
