"""HTTP for registries: pooled connections, auth challenges, redirects, TLS policy.

Built on ``http.client`` from the standard library: a registry client needs
keep-alive connections, streaming bodies and full control over headers, all
of which it has, and nothing more from a third-party library would pay for
the dependency. One connection per (thread, host); parallel layer downloads
run in threads, each with its own.

TLS policy is Docker's: HTTPS with verified certificates, except for
registries on loopback addresses (127.0.0.0/8, ::1) and ones the user lists
as insecure, where HTTPS is tried without verification and plain HTTP is the
fallback.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import threading
import urllib.parse
import weakref
from collections.abc import Iterable
from typing import IO, Any

from dockyard.errors import DockyardError, HostError, NotFound, Unauthorized
from dockyard.oci import jsonio

from .auth import Challenge, Credentials, CredentialStore, parse_challenges

USER_AGENT = "dockyard/0.1"
_REDIRECTS = (301, 302, 303, 307, 308)
Body = bytes | IO[bytes] | Iterable[bytes] | None


class RegistryError(HostError):
    """The registry answered with an error; ``status`` and its ``errors`` list are kept."""

    def __init__(self, message: str, status: int = 0, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


class RegistryNotFound(NotFound):
    pass


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or "]" in host else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


def error_message(status: int, body: bytes) -> tuple[str, tuple[str, ...]]:
    """The registry's ``{"errors": [{"code", "message"}]}`` as text, with the codes."""
    try:
        doc: Any = jsonio.loads(body)
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors:
            codes = tuple(str(e.get("code", "")) for e in errors if isinstance(e, dict))
            text = "; ".join(
                f"{e.get('code', '')}: {e.get('message', '')}"
                for e in errors
                if isinstance(e, dict)
            )
            return text, codes
    except (jsonio.JSONError, UnicodeDecodeError, AttributeError):
        pass
    snippet = body[:200].decode(errors="replace").strip()
    return f"HTTP {status}" + (f": {snippet}" if snippet else ""), ()


class Response:
    """A response whose body may be streamed; use it as a context manager."""

    def __init__(
        self, raw: http.client.HTTPResponse, conn: http.client.HTTPConnection, url: str
    ) -> None:
        self.raw = raw
        self.status = raw.status
        self.headers = raw.headers
        self.url = url
        self._conn = conn

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def read(self, amount: int | None = None) -> bytes:
        return self.raw.read(amount)

    def readinto(self, buffer: memoryview | bytearray) -> int:
        return self.raw.readinto(buffer)

    def close(self) -> None:
        if not self.raw.isclosed():
            # Unread body: the connection cannot be reused.
            self._conn.close()
        self.raw.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
        timeout: float = 60.0,
    ) -> None:
        self.credentials = credentials
        self.insecure = set(insecure)
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._schemes: dict[str, str] = {}
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._explicit: dict[str, Credentials] = {}
        self._all: list[http.client.HTTPConnection] = []
        _CLIENTS.add(self)

    def forget_connections(self) -> None:
        """In a forked child: leave the parent's connections to it, open new ones."""
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all = []

    def set_credentials(self, host: str, creds: Credentials) -> None:
        """Use these instead of the stored ones (``login`` checks them this way)."""
        self._explicit[host] = creds

    def _creds(self, host: str) -> Credentials | None:
        if host in self._explicit:
            return self._explicit[host]
        return self.credentials.get(host) if self.credentials else None

    # ------------------------------------------------------------ connections

    def _is_insecure(self, host: str) -> bool:
        return host in self.insecure or host.split(":")[0] in self.insecure or is_loopback(host)

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(
            self._local, "pool", None
        )
        if pool is None:
            pool = self._local.pool = {}
        conn = pool.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                if self._is_insecure(netloc):
                    # Nothing is verified: skip loading the CA bundle (~50 ms).
                    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                else:
                    context = ssl.create_default_context()
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, context=context)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
            pool[(scheme, netloc)] = conn
            with self._lock:
                self._all.append(conn)
        return conn

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
            if self._is_insecure(host):
                conn = self._connection("https", host)
                try:
                    conn.request("GET", "/v2/", headers={"User-Agent": USER_AGENT})
                    conn.getresponse().read()
                except (ssl.SSLError, OSError, http.client.HTTPException):
                    conn.close()
                    scheme = "http"
            with self._lock:
                self._schemes[host] = scheme
        return f"{scheme}://{host}"

    def _send(self, method: str, url: str, headers: dict[str, str], body: Body) -> Response:
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        for attempt in (0, 1):
            conn = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request(method, target, body=body, headers=headers)
                return Response(conn.getresponse(), conn, url)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                reusable = body is None or isinstance(body, bytes)
                if attempt or not reusable:
                    raise HostError(f"{method} {url}: connection lost: {exc}") from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise HostError(f"{method} {url}: {exc}") from exc
        raise AssertionError("unreachable")

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
        realm = challenge.params.get("realm")
        if not realm:
            raise Unauthorized(f"{host}: the Bearer challenge names no realm")
        query = [("service", challenge.params["service"])] if "service" in challenge.params else []
        wanted = list(scopes) or [s for s in challenge.params.get("scope", "").split(" ") if s]
        query += [("scope", scope) for scope in wanted]
        creds = self._creds(host)
        headers = {"User-Agent": USER_AGENT}
        if creds:
            query.append(("account", creds.username))
            headers["Authorization"] = creds.basic_header()
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        with self._send("GET", url, headers, None) as response:
            body = response.read()
            if response.status in (401, 403):
                who = f"as {creds.username}" if creds else "anonymously"
                raise Unauthorized(
                    f"{host}: the token server refused access {who} to {' '.join(wanted)}"
                    + ("" if creds else "; log in with dockyard login")
                )
            if response.status != 200:
                message, _ = error_message(response.status, body)
                raise RegistryError(f"{host}: token server: {message}", response.status)
        try:
            doc = jsonio.loads(body)
            token = doc.get("token") or doc.get("access_token")
        except (jsonio.JSONError, UnicodeDecodeError, AttributeError) as exc:
            raise RegistryError(f"{host}: the token server's answer is not JSON") from exc
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{host}: the token server's answer has no token")
        with self._lock:
            self._tokens[(host, " ".join(scopes))] = token
        return token

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
        """Send with auth (answering one 401) and redirects; raise unless ``expect`` holds."""
        host = urllib.parse.urlsplit(url).netloc
        sent_auth = False
        for _ in range(10):
            all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
            if host == urllib.parse.urlsplit(url).netloc or not follow:
                authorization = self._authorization(host, scopes)
                if authorization:
                    all_headers["Authorization"] = authorization
            response = self._send(method, url, all_headers, body)
            if response.status == 401 and not sent_auth:
                sent_auth = True
                response.read()
                response.close()
                self._learn_challenge(host, response, scopes)
                continue
            if follow and response.status in _REDIRECTS and method in ("GET", "HEAD"):
                location = response.header("Location")
                response.read()
                response.close()
                url = urllib.parse.urljoin(url, location)
                continue
            if response.status not in expect:
                self._raise_for(method, url, response, scopes)
            return response
        raise RegistryError(f"{method} {url}: too many redirects or auth rounds")

    def _raise_for(
        self, method: str, url: str, response: Response, scopes: tuple[str, ...]
    ) -> None:
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
        err: DockyardError = RegistryError(f"{where}: {message}", response.status, codes)
        raise err
