"""Which proxy a registry request goes through: ``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``.

The rules are Go's (golang.org/x/net/http/httpproxy), which Docker, Podman
and containerd all follow, so a user's environment means the same to us:

- ``HTTPS_PROXY`` for https URLs, ``HTTP_PROXY`` for http ones; upper case
  first, then lower case; a proxy without a scheme is ``http://``;
- never for ``localhost`` or a loopback address: a local registry is
  reached directly whatever the variables say (urllib, unlike Go, would
  send ``127.0.0.1`` to the proxy unless ``NO_PROXY`` names it);
- ``NO_PROXY`` is a comma-separated list: ``*`` (everything), IP addresses
  and CIDR ranges, ``host`` (the host and its subdomains), ``.host`` or
  ``*.host`` (subdomains only), each optionally with ``:port``.

An https registry is reached through a CONNECT tunnel, an http one by
sending the absolute URL to the proxy. Credentials in the proxy URL go as
``Proxy-Authorization: Basic``.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from dockyard.errors import InvalidArgument, Unsupported

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str = ""  # the Proxy-Authorization header's value, if the URL had a user

    @property
    def headers(self) -> dict[str, str]:
        return {"Proxy-Authorization": self.authorization} if self.authorization else {}


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name) or environ.get(name.lower()) or ""


@dataclass(frozen=True)
class ProxySettings:
    """The three variables, as read from an environment (empty: none)."""

    http: str = ""
    https: str = ""
    no_proxy: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ProxySettings:
        return cls(
            _env(environ, "HTTP_PROXY"), _env(environ, "HTTPS_PROXY"), _env(environ, "NO_PROXY")
        )


def parse_proxy(text: str, variable: str) -> Proxy:
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme != "http":
        raise Unsupported(f"{variable}={text}: only http:// proxies are supported")
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise InvalidArgument(f"{variable}={text}: {exc}") from exc
    if not parts.hostname:
        raise InvalidArgument(f"{variable}={text}: no proxy host")
    authorization = ""
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    host = parts.hostname
    return Proxy(host, port, authorization)


def _split(netloc: str, scheme: str) -> tuple[str, str]:
    """``host:port`` → (lower-case host without brackets, port or the scheme's default)."""
    parts = urllib.parse.urlsplit(f"//{netloc}")
    host = (parts.hostname or "").lower()
    try:
        port = str(parts.port) if parts.port else _DEFAULT_PORTS.get(scheme, "")
    except ValueError:
        port = ""
    return host, port


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _excluded(entry: str, host: str, port: str) -> bool:
    """Whether one ``NO_PROXY`` entry covers ``host:port``."""
    if entry == "*":
        return True
    if "/" in entry:
        address = _ip(host)
        try:
            return address is not None and address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    wanted_host, _, wanted_port = entry, "", ""
    if entry.startswith("["):  # [v6] or [v6]:port
        wanted_host, _, rest = entry[1:].partition("]")
        wanted_port = rest.removeprefix(":")
    elif entry.count(":") == 1:
        wanted_host, _, wanted_port = entry.partition(":")
    if wanted_port and wanted_port != port:
        return False
    address = _ip(wanted_host)
    if address is not None:
        return _ip(host) == address
    if wanted_host.startswith("*."):
        wanted_host = wanted_host[1:]
    if wanted_host.startswith("."):  # subdomains only
        return host.endswith(wanted_host)
    return host == wanted_host or host.endswith("." + wanted_host)


def proxy_for(scheme: str, netloc: str, settings: ProxySettings) -> Proxy | None:
    """The proxy to reach ``scheme://netloc`` through, or None to connect directly."""
    variable = "HTTPS_PROXY" if scheme == "https" else "HTTP_PROXY"
    text = settings.https if scheme == "https" else settings.http
    if not text:
        return None
    host, port = _split(netloc, scheme)
    address = _ip(host)
    if host == "localhost" or (address is not None and address.is_loopback):
        return None
    for entry in settings.no_proxy.split(","):
        entry = entry.strip().lower()
        if entry and _excluded(entry, host, port):
            return None
    return parse_proxy(text, variable)
