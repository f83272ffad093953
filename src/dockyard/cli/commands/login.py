"""Log in to a registry."""

from __future__ import annotations

import argparse
import getpass
import sys

from dockyard.cli.docker_main import Context
from dockyard.engine.login import login
from dockyard.errors import InvalidArgument
from dockyard.image.reference import DEFAULT_DOMAIN


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default=DEFAULT_DOMAIN, metavar="SERVER")
    parser.add_argument("-u", "--username", help="username")
    parser.add_argument("-p", "--password", help="password")
    parser.add_argument(
        "--password-stdin", action="store_true", help="take the password from stdin"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    server = args.server
    username = args.username
    password = args.password
    if args.password_stdin:
        if password:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        password = sys.stdin.read().rstrip("\n").rstrip("\r")
    if not username:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot prompt for a username: stdin is not a terminal; use -u")
        username = input("Username: ").strip()
    if password is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot prompt for a password: use --password-stdin")
        password = getpass.getpass("Password: ")
    elif args.password:
        sys.stderr.write(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
        )
    plain = login(ctx.engine(), server, username, password)
    if plain:
        sys.stderr.write(
            f"WARNING! Your password will be stored unencrypted in {plain}.\n"
            "Configure a credential helper (credsStore) to remove this warning.\n"
        )
    sys.stdout.write("Login Succeeded\n")
    return 0
