"""Remove one or more images."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context
from dockyard.errors import DockyardError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    parser.add_argument("--no-prune", action="store_true", help="(accepted; layers are shared)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_ops import remove

    engine = ctx.engine()
    status = 0
    for text in args.images:
        try:
            done = remove(engine, text, args.force)
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            status = 1
            continue
        lines = [f"Untagged: {n}" for n in done.untagged] + [f"Deleted: {d}" for d in done.deleted]
        sys.stdout.write("".join(f"{line}\n" for line in lines + done.notes))
    return status
