"""Display detailed information on one or more images."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands.inspect import check_template, exit_code_for, show
from dockyard.cli.docker_main import Context
from dockyard.engine.image_json import inspect_data
from dockyard.errors import DockyardError

__all__ = ["add_arguments", "exit_code_for", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--format", help="format output using a Go template")
    parser.add_argument("--type", default="image", help="only images are supported")


def run(args: argparse.Namespace, ctx: Context) -> int:
    check_template(args.format or "")
    images = ctx.engine().images
    found, status = [], 0
    for name in args.images:
        try:
            found.append(inspect_data(images.store, images.find(name)))
        except DockyardError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            status = 1
    return show(found, args.format or "") or status
