"""Download an image from a registry."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import open_store, registry_for
from dockyard.cli.docker_main import Context
from dockyard.image import copy, progress, reference
from dockyard.image.platform import parse_platform
from dockyard.image.sources import RegistrySource


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    parser.add_argument("--platform", help="set platform if server is multi-platform capable")
    parser.add_argument("-a", "--all-tags", action="store_true", help="(not supported)")
    parser.add_argument("--jobs", type=int, default=4, help="layers downloaded at once")


def run(args: argparse.Namespace, ctx: Context) -> int:
    ref = reference.parse(args.name)
    out = sys.stdout
    if not args.quiet:
        if ref.tag and ":" not in args.name.rsplit("/", 1)[-1] and not ref.digest:
            out.write(f"Using default tag: {ref.tag}\n")
        out.write(f"{ref.reference}: Pulling from {ref.path}\n")
        out.flush()
    store = open_store(ctx)
    before = store.images.names().get(str(ref)) if ref.tag else None
    source = RegistrySource(registry_for(ctx, ref.api_host), ref)
    result = copy.pull(
        source,
        store,
        wanted=parse_platform(args.platform) if args.platform else None,
        tags=[str(ref)] if ref.tag else [],
        repo_digests=lambda digest: [f"{ref.repository}@{digest}"],
        progress=progress.for_stream(out, args.quiet),
        jobs=args.jobs,
    )
    if not args.quiet:
        out.write(f"Digest: {result.digest}\n")
        if result.downloaded or before != result.image_id:
            out.write(f"Status: Downloaded newer image for {ref.familiar}\n")
        else:
            out.write(f"Status: Image is up to date for {ref.familiar}\n")
    out.write(f"{ref}\n")
    return 0
