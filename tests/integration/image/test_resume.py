"""A blob download cut mid-way resumes with a Range request instead of starting again."""

from __future__ import annotations

import http.client
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.image.builder import dir_entry, file_entry, tar_entries
from tests.integration.image.conftest import Dockyard, Registry

pytestmark = pytest.mark.integration

_FORWARDED = ("Accept", "Authorization", "Range", "Content-Type", "Content-Length")
_RETURNED = (
    "Content-Type",
    "Content-Length",
    "Content-Range",
    "Accept-Ranges",
    "Docker-Content-Digest",
    "Docker-Distribution-Api-Version",
    "Location",
    "WWW-Authenticate",
)


@dataclass
class CuttingProxy:
    """Forwards to ``upstream``; the first GET of each blob is cut after ``fraction`` of it.

    The cut answer promises the whole blob (its Content-Length) and then closes
    the connection, as a dropped link would.
    """

    upstream: str
    fraction: float = 0.4
    gets: list[tuple[str, str]] = field(default_factory=list)  # (blob path, Range header)
    sent: dict[str, int] = field(default_factory=dict)  # body bytes sent, by blob path

    def __post_init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
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
                is_blob = self.command == "GET" and "/blobs/sha256:" in self.path
                cut = None
                if is_blob and answer.status in (200, 206):
                    first = not any(path == self.path for path, _ in proxy.gets)
                    proxy.gets.append((self.path, self.headers.get("Range", "")))
                    if first:
                        cut = int(len(data) * proxy.fraction)
                self.send_response(answer.status)
                for name in _RETURNED:
                    if (value := answer.getheader(name)) is not None:
                        self.send_header(name, value)
                self.end_headers()
                if self.command == "HEAD":
                    return
                sent = data if cut is None else data[:cut]
                self.wfile.write(sent)
                self.wfile.flush()
                if is_blob:
                    proxy.sent[self.path] = proxy.sent.get(self.path, 0) + len(sent)
                if cut is not None:
                    self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = _forward

        return Handler


@pytest.fixture
def proxy(registry: Registry) -> Iterator[CuttingProxy]:
    server = CuttingProxy(registry.host)
    yield server
    server.stop()


def test_a_cut_blob_download_resumes_where_it_broke(
    dockyard: Dockyard, registry: Registry, proxy: CuttingProxy, tmp_path: Path
) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(
        tar_entries(
            [dir_entry("data")] + [file_entry(f"data/{i}", os.urandom(1 << 20)) for i in range(3)]
        )
    )
    name = f"{registry.host}/resume/img:1"
    dockyard.run("import", str(rootfs), name)
    expected = dockyard.run("image", "inspect", "-f", "{{.Id}}", name).stdout
    dockyard.run("push", name)
    dockyard.run("rmi", name)
    through_proxy = f"{proxy.host}/resume/img:1"

    dockyard.run("pull", through_proxy)

    assert dockyard.run("image", "inspect", "-f", "{{.Id}}", through_proxy).stdout == expected
    blobs = sorted({path for path, _ in proxy.gets})
    assert len(blobs) == 2  # the config and the layer, each cut once
    for path in blobs:
        size = registry.blob_file(path.rsplit("/", 1)[1]).stat().st_size
        first_part = int(size * proxy.fraction)
        assert [get for get in proxy.gets if get[0] == path] == [
            (path, ""),
            (path, f"bytes={first_part}-"),
        ]
        assert proxy.sent[path] == size  # every byte once: nothing was fetched again
    assert os.listdir(dockyard.root / "tmp") == []
    check = dockyard.run("system", "check", "--no-repair").stdout
    assert "the store is consistent" in check
