"""Download an image from a registry."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    parser.add_argument("--platform", help="set platform if server is multi-platform capable")
    parser.add_argument(
        "-a", "--all-tags", action="store_true", help="download all tagged images in the repository"
    )
    parser.add_argument("--jobs", type=int, default=4, help="layers downloaded at once")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.image import reference

    images = ctx.engine().images
    if args.all_tags:
        from dockyard.engine.image_pull_all import pull_all_tags

        name = pull_all_tags(
            images, args.name, sys.stdout, args.quiet, args.platform or "", args.jobs
        )
        sys.stdout.write(f"{name}\n")
        return 0
    images.pull(args.name, sys.stdout, args.quiet, args.platform or "", args.jobs)
    sys.stdout.write(f"{reference.parse(args.name)}\n")
    return 0
