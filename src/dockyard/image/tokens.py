"""Bearer tokens from a registry's token server: the Docker token flow and OAuth2.

A Bearer challenge names a ``realm`` (the token server) and a ``service``.
With a user and password, or none, the token is a GET (Docker's token
authentication spec): the scopes in the query, the password as Basic auth.
With an identity token (a long-lived OAuth2 refresh token that ``docker
login`` may have stored instead of the password, under ``identitytoken``)
it is a POST of ``grant_type=refresh_token`` (Docker's OAuth2 token spec),
as Docker does. A GET that asks ``offline_token=true`` may get a refresh
token back; ``login`` keeps it in place of the password.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockyard.errors import Unauthorized
from dockyard.oci import jsonio

from .apierrors import RegistryError, error_message
from .auth import Challenge, Credentials

CLIENT_ID = "dockyard"


@dataclass(frozen=True)
class Token:
    token: str
    refresh_token: str = ""  # given by the server when asked for offline access


Send = Callable[[str, str, dict[str, str], bytes | None], Any]


def fetch_token(
    send: Send,
    host: str,
    challenge: Challenge,
    scopes: tuple[str, ...],
    creds: Credentials | None,
    offline: bool = False,
) -> Token:
    """Ask the challenge's realm for a token for ``scopes``; ``send`` does the HTTP."""
    realm = challenge.params.get("realm")
    if not realm:
        raise Unauthorized(f"{host}: the Bearer challenge names no realm")
    wanted = list(scopes) or [s for s in challenge.params.get("scope", "").split(" ") if s]
    service = challenge.params.get("service", "")
    headers = {}
    if creds and creds.identity_token:
        form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token}
        form |= {"service": service, "client_id": CLIENT_ID, "scope": " ".join(wanted)}
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        method, url, who = "POST", realm, "with the stored identity token"
    else:
        query = [("service", service)] if service else []
        query += [("scope", scope) for scope in wanted]
        if creds:
            query.append(("account", creds.username))
            headers["Authorization"] = creds.basic_header()
        if offline:
            query += [("offline_token", "true"), ("client_id", CLIENT_ID)]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        method, body, who = "GET", None, f"as {creds.username}" if creds else "anonymously"
    with send(method, url, headers, body) as response:
        answer = response.read(1 << 20)
        status = response.status
    if status in (401, 403):
        raise Unauthorized(
            f"{host}: the token server refused access {who} to {' '.join(wanted)}"
            + ("" if creds else "; log in with dockyard login")
        )
    if status != 200:
        message, _ = error_message(status, answer)
        raise RegistryError(f"{host}: token server: {message}", status)
    return _parse(host, answer)


def _parse(host: str, answer: bytes) -> Token:
    try:
        doc = jsonio.loads(answer)
    except (jsonio.JSONError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{host}: the token server's answer is not JSON") from exc
    if not isinstance(doc, dict):
        raise RegistryError(f"{host}: the token server's answer is not a JSON object")
    token = doc.get("token") or doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise RegistryError(f"{host}: the token server's answer has no token")
    refresh = doc.get("refresh_token")
    return Token(token, refresh if isinstance(refresh, str) else "")
