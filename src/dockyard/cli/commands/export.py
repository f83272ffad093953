"""Export an image's (or a snapshot's) filesystem as a tar archive."""

from __future__ import annotations

import argparse
import os
import sys
import tarfile
import tempfile
from pathlib import Path

from dockyard.cli.commands._common import find_image, open_store
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.storage.snapshots import apply_diff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE",
        help="an image (there are no containers yet: their exports come later)",
    )
    parser.add_argument("-o", "--output", help="write to a file, instead of STDOUT")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    record = find_image(store, args.image)
    if not args.output and sys.stdout.isatty():
        raise InvalidArgument("cowardly refusing to save to a terminal; use -o or redirect")
    with tempfile.TemporaryDirectory(prefix="export-", dir=store.store.tmp_dir) as scratch:
        rootfs = Path(scratch) / "rootfs"
        rootfs.mkdir()
        for diff in store.layer_dirs(record):
            apply_diff(diff, rootfs)
        target = f"{args.output}.{os.getpid()}.tmp" if args.output else None
        if target:
            tar = tarfile.open(target, "w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        else:
            tar = tarfile.open(  # noqa: SIM115
                fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT
            )
        with tar:
            for entry in sorted(os.listdir(rootfs)):
                tar.add(rootfs / entry, arcname=entry, recursive=True)
        if target and args.output:
            os.replace(target, args.output)
    return 0
