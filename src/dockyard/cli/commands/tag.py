"""Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""

from __future__ import annotations

import argparse

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_ops import tag

    tag(ctx.engine(), args.source, args.target)
    return 0
