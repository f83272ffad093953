"""Save one or more images to a tar archive (streamed to STDOUT by default)."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._output import check_output, output_file
from dockyard.cli.docker_main import Context
from dockyard.engine.image_archive import FORMATS
from dockyard.errors import InvalidArgument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-o", "--output", help="write to a file, instead of STDOUT")
    parser.add_argument(
        "--format",
        default="docker-archive",
        choices=FORMATS,
        help="docker-archive (default), oci-archive or oci-dir",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_archive import save, save_dir

    if args.output and args.format != "oci-dir":
        check_output(args.output)  # before any work, as Docker does
    engine = ctx.engine()
    if args.format == "oci-dir":
        if not args.output:
            raise InvalidArgument("--format oci-dir needs -o DIRECTORY")
        save_dir(engine, args.images, args.output)
        return 0
    if not args.output:
        if sys.stdout.isatty():
            raise InvalidArgument("cowardly refusing to save to a terminal; use -o or redirect")
        save(engine, args.images, args.format, sys.stdout.buffer)
        return 0
    with output_file(args.output) as out:
        save(engine, args.images, args.format, out)
    return 0
