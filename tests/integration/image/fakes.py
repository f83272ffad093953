"""Registries written in the test: real HTTP servers on 127.0.0.1 that misbehave on cue.

`FakeRegistry` serves one image (a manifest by tag and digest, its blobs) the
way the Distribution API does, or passes requests on to a real registry
(``upstream``), and first offers every request to the test's ``hook``, which
may answer it any way it likes (an error status, headers and then nothing, a
body drip-fed a byte at a time, a hang-up mid-upload) and return True, or
return False to let the normal answer go out. Every request is logged. Handlers
that hang wait on ``stopping``, which `stop` sets, so teardown never waits
for them.
"""

from __future__ import annotations

import http.client
import http.server
import ipaddress
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.integration.image.builder import OCI_MANIFEST, Image, sha256


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when the request arrived
    stopping: threading.Event  # set at teardown: a hook that hangs waits on it


Handler = http.server.BaseHTTPRequestHandler
_HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "proxy-authorization")
Hook = Callable[[Handler, Seen], bool]


def answer(
    handler: Handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    """A complete answer: status, headers (with Content-Length), body."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
    handler.wfile.flush()


def relay(handler: Handler, address: tuple[str, int], path: str, body: bytes) -> None:
    """Pass the request on to ``address``, Host and all (so the upload locations a registry
    answers with point back to us), and its answer back."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
    conn = http.client.HTTPConnection(*address, timeout=60)
    try:
        conn.request(handler.command, path, body=body or None, headers=headers)
        upstream = conn.getresponse()
        data = upstream.read()
    finally:
        conn.close()
    handler.send_response(upstream.status)
    for name, value in upstream.getheaders():
        if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
    handler.wfile.flush()


@dataclass
class FakeRegistry:
    image: Image | None = None
    hook: Hook | None = None
    manifest_raw: bytes = b""  # served for every manifest request instead of the image's
    upstream: str = ""  # host:port of a real registry to pass what the hook lets by to
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self.blobs: dict[str, bytes] = {}
        self.manifest = self.manifest_raw
        if self.image is not None:
            config = self.image.config()
            self.blobs[sha256(config)] = config
            for layer in self.image.layers:
                self.blobs[layer.digest] = layer.blob
            self.manifest = self.manifest or self.image.manifest()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def seen(self, method: str, part: str) -> list[Seen]:
        """The requests of ``method`` whose path holds ``part``."""
        return [r for r in self.requests if r.method == method and part in r.path]

    def _answer(self, handler: Handler, body: bytes) -> None:
        if self.upstream:
            host, _, port = self.upstream.rpartition(":")
            relay(handler, (host, int(port)), handler.path, body)
            return
        path = handler.path.split("?", 1)[0]
        if path == "/v2/":
            answer(handler, 200, b"{}", {"Content-Type": "application/json"})
        elif "/manifests/" in path and self.manifest:
            digest = sha256(self.manifest)
            headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest}
            answer(handler, 200, self.manifest, headers)
        elif "/blobs/" in path and path.rsplit("/", 1)[1] in self.blobs:
            blob = self.blobs[path.rsplit("/", 1)[1]]
            answer(handler, 200, blob, {"Content-Type": "application/octet-stream"})
        else:
            body = b'{"errors":[{"code":"NOT_FOUND","message":"not here"}]}'
            answer(handler, 404, body, {"Content-Type": "application/json"})

    def _handler(self) -> type[Handler]:
        fake = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                seen = Seen(
                    self.command, self.path, dict(self.headers), time.monotonic(), fake.stopping
                )
                fake.requests.append(seen)
                # The hook comes before the body is read: it may read part of it and hang up.
                if fake.hook is not None and fake.hook(self, seen):
                    return
                length = int(self.headers.get("Content-Length") or 0)
                fake._answer(self, self.rfile.read(length) if length else b"")

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        return _Handler


@contextmanager
def fake_registry(
    image: Image | None = None,
    hook: Hook | None = None,
    manifest_raw: bytes = b"",
    upstream: str = "",
) -> Iterator[FakeRegistry]:
    fake = FakeRegistry(image, hook, manifest_raw, upstream)
    try:
        yield fake
    finally:
        fake.stop()


# ---------------------------------------------------------------- a forward proxy


@dataclass
class CountingProxy:
    """An HTTP forward proxy on 127.0.0.1 that counts what it carries.

    ``CONNECT host:port`` opens a tunnel (what a client does for https);
    ``GET http://host/...`` (the absolute form, for http) is forwarded. The
    proxy resolves names itself, as a real one does, but reaches only
    loopback addresses: anything else is refused with 502.
    """

    tunnels: list[str] = field(default_factory=list)  # CONNECT targets
    forwarded: list[str] = field(default_factory=list)  # "METHOD absolute-URL"
    refused: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # Proxy-Authorization seen

    def __post_init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[Handler]:
        proxy = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _target(self, netloc: str, default_port: int) -> tuple[str, int] | None:
                host, _, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
                try:
                    infos = socket.getaddrinfo(host, int(port or default_port), socket.AF_INET)
                except (OSError, ValueError):
                    infos = []
                address = infos[0][4] if infos else None
                if address is None or not ipaddress.ip_address(address[0]).is_loopback:
                    proxy.refused.append(netloc)
                    answer(self, 502, b"refused: not a loopback address")
                    return None
                return address[0], address[1]

            def do_CONNECT(self) -> None:
                proxy.authorizations.append(self.headers.get("Proxy-Authorization", ""))
                target = self._target(self.path, 443)
                if target is None:
                    return
                proxy.tunnels.append(self.path)
                upstream = socket.create_connection(target, timeout=30)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                sockets = [self.connection, upstream]
                try:
                    while True:
                        ready, _, _ = select.select(sockets, [], [], 30)
                        if not ready:
                            break
                        for sock in ready:
                            data = sock.recv(1 << 16)
                            if not data:
                                return
                            (upstream if sock is self.connection else self.connection).sendall(data)
                except OSError:
                    pass
                finally:
                    upstream.close()
                    self.close_connection = True

            def _forward(self) -> None:
                proxy.authorizations.append(self.headers.get("Proxy-Authorization", ""))
                parts = urllib.parse.urlsplit(self.path)
                if parts.scheme != "http":
                    answer(self, 400, b"absolute http:// URL expected")
                    return
                target = self._target(parts.netloc, 80)
                if target is None:
                    return
                proxy.forwarded.append(f"{self.command} {self.path}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                relay(self, target, urllib.parse.urlunsplit(("", "", *parts[2:])) or "/", body)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        return _Handler


@contextmanager
def counting_proxy() -> Iterator[CountingProxy]:
    proxy = CountingProxy()
    try:
        yield proxy
    finally:
        proxy.stop()
