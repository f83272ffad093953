"""Load an image from a tar archive or STDIN (docker-archive, oci-archive or an OCI dir)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from dockyard.cli.commands._common import open_store
from dockyard.cli.docker_main import Context
from dockyard.image import copy, reference
from dockyard.image.docker_archive import DockerArchiveSource, read_manifest_json
from dockyard.image.layout import Bundle, LayoutSource, entry_names, read_index
from dockyard.image.platform import parse_platform
from dockyard.image.transport import ImageSource
from dockyard.storage.local import LocalStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", help="read from a tar archive file (or OCI layout dir)")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    parser.add_argument("--platform", help="the platform to load from a multi-platform image")


def sources(bundle: Bundle) -> list[tuple[ImageSource, list[str]]]:
    """Every image in a docker-archive or OCI layout, with the names to give it."""
    found: list[tuple[ImageSource, list[str]]] = []
    if bundle.exists("manifest.json"):
        for archived in read_manifest_json(bundle):
            source = DockerArchiveSource(bundle, archived)
            found.append((source, source.names()))
        return found
    index = read_index(bundle)
    by_digest: dict[str, tuple[LayoutSource, list[str]]] = {}
    for entry in index.manifests:
        full, ref_name = entry_names(entry)
        names = []
        if full:
            names.append(str(reference.parse(full)))
        elif ref_name and ("/" in ref_name or ":" in ref_name):
            try:
                names.append(str(reference.parse(ref_name)))
            except ValueError:
                pass
        if entry.digest in by_digest:
            by_digest[entry.digest][1].extend(names)
        else:
            by_digest[entry.digest] = (LayoutSource(bundle, entry), names)
    return list(by_digest.values())


def load(store: LocalStore, bundle: Bundle, platform: str | None) -> list[tuple[str, list[str]]]:
    loaded = []
    wanted = parse_platform(platform) if platform else None
    for source, names in sources(bundle):
        result = copy.pull(source, store, wanted=wanted, tags=names)
        loaded.append((result.image_id, names))
    return loaded


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    spool = None
    path = args.input
    try:
        if not path:
            if sys.stdin.isatty():
                from dockyard.errors import InvalidArgument

                raise InvalidArgument("requested load from stdin, but stdin is a terminal")
            spool = tempfile.NamedTemporaryFile(prefix="dockyard-load-", delete=False)  # noqa: SIM115
            with spool:
                shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
            path = spool.name
        bundle = Bundle(path)
        try:
            loaded = load(store, bundle, args.platform)
        finally:
            bundle.close()
    finally:
        if spool is not None:
            os.unlink(spool.name)
    if not args.quiet:
        for image_id, names in loaded:
            if names:
                for name in names:
                    sys.stdout.write(f"Loaded image: {reference.parse(name).familiar}\n")
            else:
                sys.stdout.write(f"Loaded image ID: {image_id}\n")
    return 0
