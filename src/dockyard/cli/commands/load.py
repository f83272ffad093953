"""Load an image from a tar archive or STDIN (docker-archive, oci-archive or an OCI dir)."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from dockyard.cli.commands._common import open_store
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import copy, reference
from dockyard.image.docker_archive import DockerArchiveSource, read_manifest_json
from dockyard.image.layout import Bundle, LayoutSource, entry_names, read_index
from dockyard.image.platform import parse_platform
from dockyard.image.spool import spool_archive
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


def _random_access(path: str) -> bool:
    """A directory, or a regular file read from its start (tarfile seeks in it)."""
    try:
        st = os.stat(path)
    except OSError:
        return path != "/dev/stdin"  # a missing -i file: Bundle says so
    if stat.S_ISDIR(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    return path != "/dev/stdin" or os.lseek(0, 0, os.SEEK_CUR) == 0


@contextmanager
def _input(path: str | None) -> Iterator[IO[bytes]]:
    if not path:
        yield sys.stdin.buffer
        return
    try:
        with open(path, "rb") as f:
            yield f
    except OSError as exc:
        raise InvalidArgument(f"{path}: {exc.strerror}") from exc


def _load_path(store: LocalStore, path: str, platform: str | None) -> list[tuple[str, list[str]]]:
    bundle = Bundle(path)
    try:
        return load(store, bundle, platform)
    finally:
        bundle.close()


def load(store: LocalStore, bundle: Bundle, platform: str | None) -> list[tuple[str, list[str]]]:
    loaded = []
    wanted = parse_platform(platform) if platform else None
    for source, names in sources(bundle):
        result = copy.pull(source, store, wanted=wanted, tags=names)
        loaded.append((result.image_id, names))
    return loaded


def run(args: argparse.Namespace, ctx: Context) -> int:
    store = open_store(ctx)
    path = args.input
    if path and _random_access(path):
        loaded = _load_path(store, path, args.platform)
    elif not path and _random_access("/dev/stdin"):  # `load < file.tar`: read it in place
        loaded = _load_path(store, "/dev/stdin", args.platform)
    else:
        if not path and sys.stdin.isatty():
            raise InvalidArgument("requested load from stdin, but stdin is a terminal")
        # A pipe: its members go, as they arrive, into a private directory of the
        # store's, which the end of the operation removes (SIGTERM included).
        with store.scratch() as scratch, _input(path) as stream:
            spool = scratch / "archive"
            spool.mkdir()
            spool_archive(stream, spool, path or "stdin")
            loaded = _load_path(store, str(spool), args.platform)
    if not args.quiet:
        for image_id, names in loaded:
            if names:
                for name in names:
                    sys.stdout.write(f"Loaded image: {reference.parse(name).familiar}\n")
            else:
                sys.stdout.write(f"Loaded image ID: {image_id}\n")
    return 0
