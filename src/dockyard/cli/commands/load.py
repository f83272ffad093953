"""Load an image from a tar archive or STDIN (docker-archive, oci-archive or an OCI dir)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image import reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-i", "--input", help="read from a tar archive file (or OCI layout dir)")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    parser.add_argument("--platform", help="the platform to load from a multi-platform image")


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


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_archive import load_path, load_stream, random_access

    engine = ctx.engine()
    path = args.input
    platform = args.platform or ""
    if path and random_access(path):
        loaded = load_path(engine, path, platform)
    elif not path and random_access("/dev/stdin"):  # `load < file.tar`: read it in place
        loaded = load_path(engine, "/dev/stdin", platform)
    else:
        if not path and sys.stdin.isatty():
            raise InvalidArgument("requested load from stdin, but stdin is a terminal")
        # A pipe: its members go, as they arrive, into a private directory of the
        # store's, which the end of the operation removes (SIGTERM included).
        with _input(path) as stream:
            loaded = load_stream(engine, stream, path or "stdin", platform)
    if not args.quiet:
        for image_id, names in loaded:
            if names:
                for name in names:
                    sys.stdout.write(f"Loaded image: {reference.parse(name).familiar}\n")
            else:
                sys.stdout.write(f"Loaded image ID: {image_id}\n")
    return 0
