"""Export an image's (or a snapshot's) filesystem as a tar archive."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, open_store
from dockyard.cli.commands._output import check_output, output_file
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.storage.differ import write_tree
from dockyard.storage.snapshots import apply_diff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="an image (there are no containers yet: their exports come later)",
    )
    parser.add_argument("-o", "--output", help="write to a file, instead of STDOUT")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.output:
        check_output(args.output)  # before any work, as Docker does
    elif sys.stdout.isatty():
        raise InvalidArgument("cowardly refusing to save to a terminal; use -o or redirect")
    store = open_store(ctx)
    record = find_image(store, args.image)
    # The scratch tree lives in an operation that leases the image's layers: a
    # pull's clean-up knows it is alive, and rmi meanwhile leaves the layers.
    with store.using(record) as op:
        rootfs = op.temp_path("export-rootfs")
        rootfs.mkdir()
        for diff in store.layer_dirs(record):
            apply_diff(diff, rootfs)
        if args.output:
            with output_file(args.output) as out:
                write_tree(rootfs, out)
        else:
            write_tree(rootfs, sys.stdout.buffer)
    return 0
