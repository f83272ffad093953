"""Registries written in the test: real HTTP servers on 127.0.0.1 that misbehave on cue.

`FakeRegistry` serves one image (a manifest by tag and digest, its blobs) the
way the Distribution API does, and first offers every request to the test's
``hook``, which may answer it any way it likes (an error status, headers and
then nothing, a body drip-fed a byte at a time) and return True, or return
False to let the normal answer go out. Every request is logged. Handlers
that hang wait on ``stopping``, which `stop` sets, so teardown never waits
for them.
"""

from __future__ import annotations

import http.server
import threading
import time
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


@dataclass
class FakeRegistry:
    image: Image | None = None
    hook: Hook | None = None
    manifest_raw: bytes = b""  # served for every manifest request instead of the image's
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

    def _answer(self, handler: Handler) -> None:
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
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen = Seen(
                    self.command, self.path, dict(self.headers), time.monotonic(), fake.stopping
                )
                fake.requests.append(seen)
                if fake.hook is None or not fake.hook(self, seen):
                    fake._answer(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        return _Handler


@contextmanager
def fake_registry(
    image: Image | None = None, hook: Hook | None = None, manifest_raw: bytes = b""
) -> Iterator[FakeRegistry]:
    fake = FakeRegistry(image, hook, manifest_raw)
    try:
        yield fake
    finally:
        fake.stop()
