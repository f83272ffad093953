"""Import the contents from a tarball to create a filesystem image."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from dockyard.cli.commands._common import open_store
from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument, Unsupported
from dockyard.image import copy, reference
from dockyard.image.platform import parse_platform
from dockyard.image.tarball import TarballSource
from dockyard.oci.image_spec import ContainerConfig


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


def _words(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        from dockyard.oci import jsonio

        parsed = jsonio.loads(value)
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return list(parsed)
        raise InvalidArgument(f"{value!r}: not a JSON array of strings")
    return ["/bin/sh", "-c", value]


def apply_changes(changes: list[str]) -> ContainerConfig:
    config = ContainerConfig()
    for change in changes:
        keyword, _, value = change.strip().partition(" ")
        keyword, value = keyword.upper(), value.strip()
        if keyword == "CMD":
            config.cmd = _words(value)
        elif keyword == "ENTRYPOINT":
            config.entrypoint = _words(value)
        elif keyword == "ENV":
            key, sep, val = value.partition("=")
            if not sep:
                key, _, val = value.partition(" ")
            config.env = [e for e in config.env if not e.startswith(f"{key}=")] + [f"{key}={val}"]
        elif keyword == "WORKDIR":
            config.working_dir = value
        elif keyword == "USER":
            config.user = value
        elif keyword == "LABEL":
            key, _, val = value.partition("=")
            config.labels[key.strip()] = val.strip().strip('"')
        elif keyword == "EXPOSE":
            config.exposed_ports += [p if "/" in p else f"{p}/tcp" for p in value.split()]
        elif keyword == "VOLUME":
            config.volumes += _words(value) if value.startswith("[") else value.split()
        elif keyword == "STOPSIGNAL":
            config.stop_signal = value
        else:
            raise Unsupported(f"{keyword} is not supported in --change")
    return config


def run(args: argparse.Namespace, ctx: Context) -> int:
    if "://" in args.file:
        raise Unsupported("importing from a URL is not supported; download the file first")
    store = open_store(ctx)
    tags = [str(reference.parse(args.repository))] if args.repository else []
    spool = None
    path = args.file
    try:
        if path == "-":
            spool = tempfile.NamedTemporaryFile(prefix="dockyard-import-", delete=False)  # noqa: SIM115
            with spool:
                shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
            path = spool.name
        source = TarballSource(
            path,
            apply_changes(args.change),
            args.message,
            parse_platform(args.platform) if args.platform else None,
        )
        result = copy.pull(source, store, tags=tags)
    finally:
        if spool is not None:
            os.unlink(spool.name)
    sys.stdout.write(f"{result.image_id}\n")
    return 0
