"""``login`` and ``logout``: a registry's credentials checked, kept and forgotten.

Credentials go to Docker's config (or its credential helper, credsStore and
credHelpers); a token server that hands out an identity token gets that
kept instead of the password. Server names are Docker's: a URL's scheme
and path are dropped, Docker Hub's aliases are ``docker.io``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine


def normalize_server(server: str) -> str:
    from dockyard.image.reference import DEFAULT_DOMAIN, DOCKER_HUB_API

    for scheme in ("https://", "http://"):
        server = server.removeprefix(scheme)
    server = server.split("/", 1)[0]
    return DEFAULT_DOMAIN if server in ("index.docker.io", DOCKER_HUB_API) else server


def login(engine: Engine, server: str, username: str, password: str) -> str:
    """Check the credentials against ``server`` and keep them; where they were written
    in plain text ("" when a credential helper or an identity token holds them)."""
    from dockyard.image.auth import Credentials
    from dockyard.image.credstore import CredentialStore
    from dockyard.image.http import HttpClient
    from dockyard.image.options import ClientOptions
    from dockyard.image.reference import DEFAULT_DOMAIN, DOCKER_HUB_API
    from dockyard.image.registry import Registry

    server = normalize_server(server)
    creds = Credentials(username, password)
    host = DOCKER_HUB_API if server == DEFAULT_DOMAIN else server
    client = HttpClient(None, insecure=engine.insecure, options=ClientOptions.from_env())
    client.set_credentials(host, creds)
    client.offline = True  # a token server may give an identity token to keep instead
    Registry(client, host).ping()
    if refresh_token := client.refresh_tokens.get(host):
        creds = Credentials(username, identity_token=refresh_token)
    store = CredentialStore()
    if store.store(server, creds) is None and not creds.identity_token:
        return str(store.path)
    return ""


def logout(server: str) -> bool:
    """Forget the credentials of ``server``; False if there were none."""
    from dockyard.image.credstore import CredentialStore

    return bool(CredentialStore().erase(normalize_server(server)))
