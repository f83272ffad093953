"""Log in to a registry."""

from __future__ import annotations

import argparse
import getpass
import sys

from dockyard.cli.docker_main import Context
from dockyard.errors import InvalidArgument
from dockyard.image.auth import Credentials
from dockyard.image.credstore import CredentialStore
from dockyard.image.http import HttpClient
from dockyard.image.options import ClientOptions
from dockyard.image.reference import DEFAULT_DOMAIN, DOCKER_HUB_API
from dockyard.image.registry import Registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default=DEFAULT_DOMAIN, metavar="SERVER")
    parser.add_argument("-u", "--username", help="username")
    parser.add_argument("-p", "--password", help="password")
    parser.add_argument(
        "--password-stdin", action="store_true", help="take the password from stdin"
    )


def normalize_server(server: str) -> str:
    for scheme in ("https://", "http://"):
        server = server.removeprefix(scheme)
    server = server.split("/", 1)[0]
    return DEFAULT_DOMAIN if server in ("index.docker.io", DOCKER_HUB_API) else server


def run(args: argparse.Namespace, ctx: Context) -> int:
    server = normalize_server(args.server)
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
    creds = Credentials(username, password)
    store = CredentialStore()
    host = DOCKER_HUB_API if server == DEFAULT_DOMAIN else server
    client = HttpClient(None, insecure=ctx.insecure, options=ClientOptions.from_env())
    client.set_credentials(host, creds)
    client.offline = True  # a token server may give an identity token to keep instead
    Registry(client, host).ping()
    if refresh_token := client.refresh_tokens.get(host):
        creds = Credentials(username, identity_token=refresh_token)
    if store.store(server, creds) is None and not creds.identity_token:
        sys.stderr.write(
            f"WARNING! Your password will be stored unencrypted in {store.path}.\n"
            "Configure a credential helper (credsStore) to remove this warning.\n"
        )
    sys.stdout.write("Login Succeeded\n")
    return 0
