"""Remove unused images (dangling ones; all untagged with -a)."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import human_size, open_store
from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="remove all unused images, not just dangling ones"
    )
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    parser.add_argument("--filter", action="append", default=[], help="(label filters only)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    names = store.images.names()
    deleted, reclaimed = [], 0
    for record in store.images.all():
        tagged = bool(store.images.tags_of(record.id, names))
        if store.users(record.id):
            continue
        if args.all or (not tagged and not record.repo_digests):
            result = store.remove(record, [], force=True, by_id=True)
            deleted += result.deleted
            reclaimed += record.size
    collected = store.gc()
    out = sys.stdout
    if deleted:
        out.write("Deleted Images:\n")
        for image_id in deleted:
            out.write(f"deleted: {image_id}\n")
        out.write("\n")
    out.write(f"Total reclaimed space: {human_size(reclaimed)}\n")
    if collected.busy:
        out.write("(layers not collected: another operation is running)\n")
    return 0
