"""Log out from a registry."""

from __future__ import annotations

import argparse
import sys

from dockyard.cli.docker_main import Context
from dockyard.engine.login import logout, normalize_server
from dockyard.image.reference import DEFAULT_DOMAIN


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default=DEFAULT_DOMAIN, metavar="SERVER")


def run(args: argparse.Namespace, ctx: Context) -> int:
    server = normalize_server(args.server)
    if logout(server):
        sys.stdout.write(f"Removing login credentials for {server}\n")
    else:
        sys.stdout.write(f"Not logged in to {server}\n")
    return 0
