"""Save one or more images to a tar archive (streamed to STDOUT by default)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import IO

from dockyard.cli.commands._common import find_image, open_store
from dockyard.cli.commands._output import check_output, output_file
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import reference
from dockyard.image.docker_archive import BlobReader, SaveItem, save_docker_archive, save_oci
from dockyard.image.layout import Bundle, BundleWriter, read_index
from dockyard.storage.local import LocalStore

FORMATS = ("docker-archive", "oci-archive", "oci-dir")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-o", "--output", help="write to a file, instead of STDOUT")
    parser.add_argument(
        "--format",
        default="docker-archive",
        choices=FORMATS,
        help="docker-archive (default), oci-archive or oci-dir",
    )


def save_items(store: LocalStore, names: list[str]) -> list[SaveItem]:
    items: dict[str, SaveItem] = {}
    for text in names:
        record = find_image(store, text)
        item = items.get(record.id)
        if item is None:
            config = store.images.config(record)
            item = items[record.id] = SaveItem(
                names=[],
                manifest_raw=store.read_blob(record.manifest_digest),
                manifest_media_type=record.manifest_media_type,
                manifest_digest=record.manifest_digest,
                manifest=store.images.manifest(record),
                diff_ids=list(config.diff_ids),
            )
        try:
            ref = reference.parse(text)
        except InvalidArgument:
            continue
        if ref.tag and str(ref) in store.images.names() and str(ref) not in item.names:
            item.names.append(str(ref))
    return list(items.values())


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.output and args.format != "oci-dir":
        check_output(args.output)  # before any work, as Docker does
    store = open_store(ctx)
    # The images are leased while they are written: rmi meanwhile leaves their blobs.
    with store.using(*(find_image(store, text) for text in args.images)):
        return _save(args, store)


def _save(args: argparse.Namespace, store: LocalStore) -> int:
    items = save_items(store, args.images)
    blobs = BlobReader(store.open_blob, store.layers.open_diff)
    if args.format == "oci-dir":
        if not args.output:
            raise InvalidArgument("--format oci-dir needs -o DIRECTORY")
        existing = None
        if os.path.exists(os.path.join(args.output, "index.json")):
            existing = read_index(Bundle(args.output))
        save_oci(items, blobs, BundleWriter(args.output, as_dir=True), existing)
        return 0
    if not args.output:
        if sys.stdout.isatty():
            raise InvalidArgument("cowardly refusing to save to a terminal; use -o or redirect")
        _write(items, blobs, args.format, sys.stdout.buffer)
        return 0
    with output_file(args.output) as out:
        _write(items, blobs, args.format, out)
    return 0


def _write(items: list[SaveItem], blobs: BlobReader, fmt: str, out: IO[bytes]) -> None:
    writer = BundleWriter(out, as_dir=False)
    try:
        if fmt == "docker-archive":
            save_docker_archive(items, blobs, writer)
        else:
            save_oci(items, blobs, writer)
        writer.close()
    except BaseException:
        writer.abandon()
        raise
