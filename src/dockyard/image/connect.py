"""Opening connections to a registry: TLS policy, certs.d, proxies, timeouts.

TLS policy is Docker's: HTTPS with verified certificates, except for
registries on loopback addresses (127.0.0.0/8, ::1) and ones the user lists
as insecure, where HTTPS is tried without verification and plain HTTP is the
fallback. A registry with a certs.d directory is verified with it (tls.py).
Requests go through the proxy the environment names (proxy.py).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .options import ClientOptions
from .proxy import Proxy, proxy_for
from .tls import Contexts, has_certs, host_dir


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


@dataclass
class Route:
    """How to reach one ``scheme://netloc``: the connection, and the form of request target."""

    conn: http.client.HTTPConnection
    absolute: bool  # through an http proxy: the request line carries the whole URL
    proxy_headers: dict[str, str]


class Connector:
    def __init__(
        self,
        options: ClientOptions,
        insecure: Iterable[str] = (),
    ) -> None:
        self.options = options
        self.insecure = set(insecure)
        self.contexts = Contexts(options.certs_dir)

    def is_insecure(self, host: str) -> bool:
        """Listed by the user, or on loopback without a certs.d directory of its own."""
        if host in self.insecure or host.split(":")[0] in self.insecure:
            return True
        return is_loopback(host) and not has_certs(self.options.certs_dir, host)

    def open(self, scheme: str, netloc: str) -> Route:
        timeout = self.options.stall_timeout
        proxy: Proxy | None = proxy_for(scheme, netloc, self.options.proxies)
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self.contexts.get(netloc, verify=not self.is_insecure(netloc))
            if proxy is None:
                conn = http.client.HTTPSConnection(netloc, timeout=timeout, context=context)
            else:
                conn = http.client.HTTPSConnection(
                    proxy.host, proxy.port, timeout=timeout, context=context
                )
                host, port = _host_port(netloc, 443)
                conn.set_tunnel(host, port, headers=proxy.headers)
            return Route(conn, False, {})
        if proxy is None:
            return Route(http.client.HTTPConnection(netloc, timeout=timeout), False, {})
        conn = http.client.HTTPConnection(proxy.host, proxy.port, timeout=timeout)
        return Route(conn, True, proxy.headers)


def _host_port(netloc: str, default: int) -> tuple[str, int]:
    host, sep, port = netloc.rpartition(":")
    if sep and port.isdigit() and (not host.startswith("[") or host.endswith("]")):
        return host.strip("[]"), int(port)
    return netloc.strip("[]"), default


def peer_alert(exc: BaseException | None) -> bool:
    """Whether ``exc`` is the other side's TLS alert: it speaks TLS, and refused."""
    return isinstance(exc, ssl.SSLError) and "ALERT" in str(exc.reason or "")


def tls_hint(exc: BaseException, netloc: str, certs_dir: Path) -> str:
    """A way out for the TLS failures a user can fix with certs.d files."""
    if not isinstance(exc, ssl.SSLError):
        return ""
    reason = str(exc.reason or "")
    where = host_dir(certs_dir, netloc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f" (a private CA? put its certificate in {where}/ca.crt)"
    if reason.endswith(("ALERT_BAD_CERTIFICATE", "ALERT_CERTIFICATE_REQUIRED")):
        return f" (the registry wants a client certificate: {where}/client.cert and client.key)"
    return ""
