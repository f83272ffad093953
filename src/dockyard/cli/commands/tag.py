"""Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""

from __future__ import annotations

import argparse

from dockyard.cli.commands._common import find_image, open_store
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    record = find_image(store, args.source)
    target = reference.parse(args.target)
    if target.digest:
        raise InvalidArgument("refusing to create a tag with a digest reference")
    store.images.tag(str(target), record.id)
    return 0
