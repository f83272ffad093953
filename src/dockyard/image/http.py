"""HTTP for registries: pooled connections, retries, auth challenges, redirects.

Built on ``http.client`` from the standard library: a registry client needs
keep-alive connections, streaming bodies and full control over headers, all
of which it has, and nothing more from a third-party library would pay for
the dependency. One connection per (thread, host); parallel layer downloads
run in threads or forked workers, each with its own.

Around that: connections, TLS and proxies (connect.py), a body read under a
deadline (response.py), retries of 429 and 5xx answers (retry.py), tokens
(tokens.py) and stored credentials (auth.py).
"""

from __future__ import annotations

import http.client
import os
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterable
from dataclasses import replace
from typing import IO

from dockyard.errors import DockyardError, HostError, Unauthorized

from .apierrors import RegistryError, RegistryNotFound, error_message
from .auth import Challenge, Credentials, parse_challenges
from .connect import Connector, Route, is_loopback, peer_alert, tls_hint
from .credstore import CredentialStore
from .options import ClientOptions
from .response import Response, silence
from .retry import RETRY_STATUSES, backoff, retry_after
from .tokens import fetch_token

__all__ = [
    "HttpClient",
    "RegistryError",
    "RegistryNotFound",
    "Response",
    "error_message",
    "is_loopback",
]

USER_AGENT = "dockyard/0.1"
_REDIRECTS = (301, 302, 303, 307, 308)
Body = bytes | IO[bytes] | Iterable[bytes] | None

_CLIENTS: weakref.WeakSet[HttpClient] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_CLIENTS):
        client.forget_connections()


os.register_at_fork(after_in_child=_after_fork_in_child)


class HttpClient:
    def __init__(
        self,
        credentials: CredentialStore | None = None,
        insecure: Iterable[str] = (),
        timeout: float | None = None,
        options: ClientOptions | None = None,
    ) -> None:
        options = options or ClientOptions()
        if timeout is not None:
            options = replace(options, stall_timeout=timeout)
        self.options = options
        self.credentials = credentials
        self.connector = Connector(options, insecure)
        #: ask token servers for a refresh token too (``login`` stores it for the password)
        self.offline = False
        self.refresh_tokens: dict[str, str] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self._schemes: dict[str, str] = {}
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._found: dict[str, Credentials | None] = {}
        self._all: list[http.client.HTTPConnection] = []
        _CLIENTS.add(self)

    def forget_connections(self) -> None:
        """In a forked child: leave the parent's connections to it, open new ones."""
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all = []

    def set_credentials(self, host: str, creds: Credentials) -> None:
        """Use these instead of the stored ones (``login`` checks them this way)."""
        self._found[host] = creds

    def _creds(self, host: str) -> Credentials | None:
        """The credentials for ``host``, looked up once (a helper program may be asked)."""
        with self._lock:
            if host in self._found:
                return self._found[host]
        creds = self.credentials.get(host) if self.credentials else None
        with self._lock:
            return self._found.setdefault(host, creds)

    # ------------------------------------------------------------ connections

    def _route(self, scheme: str, netloc: str) -> Route:
        pool: dict[tuple[str, str], Route] | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        route = pool.get((scheme, netloc))
        if route is None:
            route = pool[(scheme, netloc)] = self.connector.open(scheme, netloc)
            with self._lock:
                self._all.append(route.conn)
        return route

    def close(self) -> None:
        """Close every connection, those of other threads too."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def base_url(self, host: str) -> str:
        """``https://host`` or, for an insecure registry that has no TLS, ``http://host``."""
        with self._lock:
            scheme = self._schemes.get(host)
        if scheme is None:
            scheme = "https"
            if self.connector.is_insecure(host):
                try:
                    self._exchange("GET", f"https://{host}/v2/", {}, None).read()
                except HostError as exc:
                    # A TLS alert comes from a server that speaks TLS but refuses us (a
                    # client certificate it wants): plain HTTP would only hide why.
                    if not peer_alert(exc.__cause__):
                        scheme = "http"
            with self._lock:
                self._schemes[host] = scheme
        return f"{scheme}://{host}"

    def _exchange(self, method: str, url: str, headers: dict[str, str], body: Body) -> Response:
        """One request and its answer's headers; a connection the server dropped is redone once."""
        parts = urllib.parse.urlsplit(url)
        what = f"{method} {url}"
        for attempt in (0, 1):
            route = self._route(parts.scheme, parts.netloc)
            target = url if route.absolute else urllib.parse.urlunsplit(("", "", *parts[2:]))
            sent = {"User-Agent": USER_AGENT, **route.proxy_headers, **headers}
            try:
                route.conn.request(method, target or "/", body=body, headers=sent)
                raw = route.conn.getresponse()
                return Response(raw, route.conn, url, self.options, what)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                route.conn.close()
                reusable = body is None or isinstance(body, bytes)
                if attempt or not reusable:
                    raise HostError(f"{what}: connection lost: {exc}") from exc
            except TimeoutError as exc:
                route.conn.close()
                raise silence(what, self.options.stall_timeout, exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                route.conn.close()
                hint = tls_hint(exc, parts.netloc, self.options.certs_dir)
                raise HostError(f"{what}: {exc}{hint}") from exc
            except BaseException:  # the body's source failed mid-request: drop the half
                route.conn.close()
                raise
        raise AssertionError("unreachable")

    def _send(self, method: str, url: str, headers: dict[str, str], body: Body) -> Response:
        """An exchange, asked again after 429 and 5xx answers (if the body can be sent again).

        The wait is what ``Retry-After`` says, or a doubling backoff; a registry that
        asks for more than ``max_wait`` gets its answer passed on, to fail at once.
        """
        replayable = body is None or isinstance(body, bytes)
        attempt = 0
        while True:
            response = self._exchange(method, url, headers, body)
            response.attempts = attempt + 1
            if (
                response.status not in RETRY_STATUSES
                or not replayable
                or attempt >= self.options.retries
            ):
                return response
            wait = retry_after(response.header("Retry-After"))
            if wait is not None and wait > self.options.max_wait:
                return response
            response.read(65536)  # a short error body: reading it keeps the connection
            response.close()
            time.sleep(backoff(attempt, self.options) if wait is None else wait)
            attempt += 1

    # ------------------------------------------------------------ auth

    def _authorization(self, host: str, scopes: tuple[str, ...]) -> str | None:
        with self._lock:
            challenge = self._challenges.get(host)
            if challenge is None:
                return None
            token = self._tokens.get((host, " ".join(scopes)))
        if challenge.scheme == "basic":
            creds = self._creds(host)
            return creds.basic_header() if creds else None
        if token is None:
            token = self._fetch_token(host, challenge, scopes)
        return f"Bearer {token}"

    def _fetch_token(self, host: str, challenge: Challenge, scopes: tuple[str, ...]) -> str:
        creds = self._creds(host)

        def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
            return self._send(method, url, headers, body)

        got = fetch_token(send, host, challenge, scopes, creds, self.offline)
        with self._lock:
            self._tokens[(host, " ".join(scopes))] = got.token
            if got.refresh_token:
                self.refresh_tokens[host] = got.refresh_token
                if creds and creds.identity_token:  # the server may rotate it
                    self._found[host] = replace(creds, identity_token=got.refresh_token)
        return got.token

    def _learn_challenge(self, host: str, response: Response, scopes: tuple[str, ...]) -> None:
        header = response.header("WWW-Authenticate")
        challenges = parse_challenges(header)
        chosen = next((c for c in challenges if c.scheme == "bearer"), None) or next(
            (c for c in challenges if c.scheme == "basic"), None
        )
        if chosen is None:
            raise Unauthorized(f"{host}: authentication required ({header or 'no challenge'})")
        with self._lock:
            self._challenges[host] = chosen
            self._tokens.pop((host, " ".join(scopes)), None)
        if chosen.scheme == "basic" and self._creds(host) is None:
            raise Unauthorized(
                f"{host}: authentication required; log in with dockyard login {host}"
            )

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
        body: Body = None,
        expect: tuple[int, ...] = (200,),
        follow: bool = True,
    ) -> Response:
        """Send with auth (answering one 401), retries and redirects; raise unless ``expect``."""
        host = urllib.parse.urlsplit(url).netloc
        sent_auth = False
        for _ in range(10):
            all_headers = dict(headers or {})
            if host == urllib.parse.urlsplit(url).netloc or not follow:
                authorization = self._authorization(host, scopes)
                if authorization:
                    all_headers["Authorization"] = authorization
            response = self._send(method, url, all_headers, body)
            if response.status == 401 and not sent_auth:
                sent_auth = True
                response.read(65536)
                response.close()
                self._learn_challenge(host, response, scopes)
                continue
            if follow and response.status in _REDIRECTS and method in ("GET", "HEAD"):
                location = response.header("Location")
                response.read(65536)
                response.close()
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status not in expect:
                self._raise_for(method, url, response)
            return response
        raise RegistryError(f"{method} {url}: too many redirects or auth rounds")

    def _raise_for(self, method: str, url: str, response: Response) -> None:
        body = b"" if method == "HEAD" else response.read(65536)
        response.close()
        message, codes = error_message(response.status, body)
        where = f"{method} {urllib.parse.urlsplit(url).path}"
        if response.status == 401:
            raise Unauthorized(f"{where}: unauthorized: {message}; log in with dockyard login")
        if response.status == 403:
            raise Unauthorized(f"{where}: denied: {message}")
        if response.status == 404:
            raise RegistryNotFound(f"{where}: not found: {message}")
        notes = [f"{response.attempts} attempts"] if response.attempts > 1 else []
        if wait := response.header("Retry-After").strip():
            notes.append(f"the registry asks to retry after {wait}")
        if notes:
            message += f" ({'; '.join(notes)})"
        err: DockyardError = RegistryError(f"{where}: {message}", response.status, codes)
        raise err
