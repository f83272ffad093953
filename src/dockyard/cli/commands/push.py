"""Upload an image to a registry."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.commands._common import find_image, open_store, registry_for
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import copy, progress, reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME[:TAG]")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    parser.add_argument("-a", "--all-tags", action="store_true", help="push all tags of the repo")
    parser.add_argument("--jobs", type=int, default=4, help="layers uploaded at once")


def run(args: argparse.Namespace, ctx: Context) -> int:
    out = sys.stdout
    store = open_store(ctx)
    if args.all_tags:
        repo = reference.parse_repository(args.name)
        names = store.images.names()
        refs = [reference.parse(n) for n in names if n.startswith(repo.repository + ":")]
        if not refs:
            raise InvalidArgument(f"no tags of {repo.familiar_repository} to push")
    else:
        refs = [reference.parse(args.name)]
        if not refs[0].tag:
            raise InvalidArgument("push needs a tag (or -a), not a digest")
        if not args.quiet:
            out.write(f"The push refers to repository [{refs[0].repository}]\n")
    registry = registry_for(ctx, refs[0].api_host)
    for ref in refs:
        record = find_image(store, str(ref))
        manifest = store.images.manifest(record)
        mount_from = [
            reference.parse(d).path
            for d in record.repo_digests
            if reference.parse(d).domain == ref.domain
        ]
        image = copy.PushImage(
            store.read_blob(record.manifest_digest),
            record.manifest_media_type,
            record.manifest_digest,
            manifest.config,
            manifest.layers,
        )
        with store.using(record):  # rmi meanwhile does not take the blobs from under us
            digest = copy.push(
                store,
                image,
                registry,
                ref.path,
                ref.tag,
                mount_from=mount_from,
                progress=progress.for_stream(out, args.quiet),
                jobs=args.jobs,
            )
        size = len(image.manifest_raw)
        if args.quiet:
            out.write(f"{ref}\n")
        else:
            out.write(f"{ref.tag}: digest: {digest} size: {size}\n")
        store.add_repo_digest(record.id, ref.repository, digest)
    return 0
