"""Display detailed information on one or more images."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, open_store
from dockyard.cli.commands._format import render
from dockyard.cli.docker_main import Context
from dockyard.engine.image_json import inspect_data
from dockyard.errors import DockyardError
from dockyard.oci import jsonio


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--format", help="format output using a Go-like template")
    parser.add_argument("--type", default="image", help="only images are supported")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    found, status = [], 0
    for name in args.images:
        try:
            found.append(inspect_data(store, find_image(store, name)))
        except DockyardError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            status = 1
    if args.format:
        for item in found:
            sys.stdout.write(render(args.format, item) + "\n")
    else:
        sys.stdout.write(jsonio.dumps(found, indent=4) + "\n")
    return status
