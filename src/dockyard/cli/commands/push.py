"""Upload an image to a registry."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME[:TAG]")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    parser.add_argument("-a", "--all-tags", action="store_true", help="push all tags of the repo")
    parser.add_argument("--jobs", type=int, default=4, help="layers uploaded at once")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_push import push

    push(ctx.engine(), args.name, sys.stdout, args.all_tags, args.quiet, args.jobs)
    return 0
