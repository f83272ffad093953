"""Import the contents from a tarball to create a filesystem image."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from dockyard.cli.docker_main import Context
from dockyard.errors import Unsupported


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="file|-")
    parser.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")
    parser.add_argument(
        "-c",
        "--change",
        action="append",
        default=[],
        help="apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER, "
        "LABEL, EXPOSE, VOLUME, STOPSIGNAL)",
    )
    parser.add_argument("-m", "--message", default="", help="set the commit message")
    parser.add_argument("--platform", help="set platform")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from dockyard.engine.image_archive import import_tarball

    if "://" in args.file:
        raise Unsupported("importing from a URL is not supported; download the file first")
    spool = None
    path = args.file
    try:
        if path == "-":
            spool = tempfile.NamedTemporaryFile(prefix="dockyard-import-", delete=False)  # noqa: SIM115
            with spool:
                shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
            path = spool.name
        image_id = import_tarball(
            ctx.engine(), path, args.repository or "", args.change, args.message,
            args.platform or "",
        )  # fmt: skip
    finally:
        if spool is not None:
            os.unlink(spool.name)
    sys.stdout.write(f"{image_id}\n")
    return 0
