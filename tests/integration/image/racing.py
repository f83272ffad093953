"""Helpers for the tests that race dockyard processes: a proxy that holds a blob back,
parallel runs, and what a consistent store looks like."""

from __future__ import annotations

import http.client
import http.server
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.storage.gc import count_refs
from dockyard.storage.local import LocalStore
from tests.integration.image.conftest import DOCKYARD, Dockyard, Result

_FORWARDED = ("Accept", "Authorization", "Range", "Content-Type", "Content-Length")
_RETURNED = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Docker-Content-Digest",
    "Docker-Distribution-Api-Version",
    "Location",
    "WWW-Authenticate",
)


@dataclass
class StallingProxy:
    """Forwards to ``upstream``, but holds every GET of ``held`` blobs until `release`.

    A pull through it stores what it can and then waits, alive, for as long as
    the test wants: a running operation at a known point.
    """

    upstream: str
    held: set[str] = field(default_factory=set)  # digests
    waiting: threading.Event = field(default_factory=threading.Event)  # a held GET arrived
    _go: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def release(self) -> None:
        self._go.set()

    def stop(self) -> None:
        self._go.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                if self.command == "GET" and any(d in self.path for d in proxy.held):
                    proxy.waiting.set()
                    proxy._go.wait(120)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k in _FORWARDED if (v := self.headers.get(k)) is not None}
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                finally:
                    conn.close()
                self.send_response(answer.status)
                for name in _RETURNED:
                    if (value := answer.getheader(name)) is not None:
                        self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _forward

        return Handler


def run_parallel(
    dockyard: Dockyard, commands: list[list[str]], timeout: float = 120
) -> list[Result]:
    """Start every command at once; their results, in order."""
    procs = [
        subprocess.Popen(
            [str(DOCKYARD), *cmd], env=dockyard.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for cmd in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append(Result(proc.returncode, out.decode(errors="replace"), err.decode()))
    return results


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def no_garbage(root: Path) -> None:
    """Nothing in tmp/, no layer or blob that nothing uses."""
    store = LocalStore(root)
    assert sorted(os.listdir(root / "tmp")) == []
    refs = count_refs(store.store)
    assert {c for c in store.layers.all() if refs.layers[c] == 0} == set()
    assert {b for b in store.store.blob_digests() if refs.blobs[b] == 0} == set()


def consistent(dockyard: Dockyard) -> None:
    """`system check --no-repair` finds nothing, and nothing is left over."""
    check = dockyard.run("system", "check", "--no-repair", check=False)
    assert check.returncode == 0 and check.stdout == "the store is consistent\n", check
    no_garbage(dockyard.root)
