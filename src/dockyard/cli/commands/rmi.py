"""Remove one or more images."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, open_store, removal_report
from dockyard.cli.docker_main import Context
from dockyard.errors import DockyardError
from dockyard.image import reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="force removal of the image")
    parser.add_argument("--no-prune", action="store_true", help="(accepted; layers are shared)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    status = 0
    for text in args.images:
        try:
            record = find_image(store, text)
            try:
                ref = reference.parse(text)
                name = str(ref)
            except DockyardError:
                name = ""
            names = store.images.names()
            by_id = name not in names and not (name and "@" in name)
            if name and "@" in name:
                # by digest: untag nothing, drop the digest; delete if nothing else names it
                by_id = store.remove_repo_digest(record, name)
                names_to_remove: list[str] = []
                sys.stdout.write(f"Untagged: {reference.parse(name).familiar}\n")
            else:
                names_to_remove = [] if by_id else [name]
            result = store.remove(record, names_to_remove, args.force, by_id)
            for untagged in result.untagged:
                sys.stdout.write(f"Untagged: {reference.parse(untagged).familiar}\n")
            for deleted in result.deleted:
                for digest in record.repo_digests:
                    sys.stdout.write(f"Untagged: {reference.parse(digest).familiar}\n")
                sys.stdout.write(f"Deleted: {deleted}\n")
            if result.collected is not None:
                for line in removal_report(result.collected):
                    sys.stdout.write(f"{line}\n")
        except DockyardError as exc:
            sys.stderr.write(f"Error response from daemon: {exc}\n")
            status = 1
    return status
