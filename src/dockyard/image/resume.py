"""Blob downloads that survive a broken connection by resuming where it broke.

A registry serves blobs with HTTP Range support (the Distribution spec asks
for it; ``docker-registry`` and the object stores it redirects to have it).
`ResumingReader` reads a blob of known size; when the body ends early or the
connection fails after some bytes came through, it asks again from the next
byte (``Range: bytes=N-``) and goes on as if nothing happened, so whatever
consumes the stream (hashing, decompressing, unpacking) never restarts. The
digest is still checked by the consumer over the whole stream.

A failure before the first byte, a server that answers the range from the
wrong offset, or too many breaks in a row are raised as `HostError`: the
copy pipeline then starts the layer again from scratch. A stall (a registry
silent or drip-feeding for longer than the deadline) is raised at once.
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Callable
from typing import Protocol

from dockyard.errors import HostError

from .response import TransferStalled

#: breaks in a row, without a byte coming through in between, before giving up
MAX_BREAKS = 4
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class BlobResponse(Protocol):
    """http.Response, as far as this module uses it."""

    status: int

    def header(self, name: str, default: str = "") -> str: ...

    def read(self, amount: int | None = None) -> bytes: ...

    def close(self) -> None: ...


class ResumingReader:
    """Reads ``size`` bytes from ``open_at(0)``, reopening at the offset reached if it breaks."""

    def __init__(
        self,
        open_at: Callable[[int], BlobResponse],
        size: int,
        what: str,
        max_breaks: int = MAX_BREAKS,
    ) -> None:
        self._open_at = open_at
        self.size = size
        self.what = what
        self.offset = 0  # bytes delivered so far
        self.resumed = 0  # how many times the download was picked up again
        self._max_breaks = max_breaks
        self._breaks = 0
        self._response: BlobResponse | None = open_at(0)

    def read(self, amount: int = -1) -> bytes:
        if amount is None or amount < 0:
            chunks = []
            while chunk := self.read(1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        want = min(amount, self.size - self.offset)
        if want <= 0:
            self.close()
            return b""
        while True:
            error: BaseException | None = None
            try:
                if self._response is None:
                    self._response = self._reopen()
                data = self._response.read(want)
            except TransferStalled:  # asking the same registry again would stall again
                self.close()
                raise
            except (OSError, http.client.HTTPException, HostError) as exc:
                data, error = b"", exc
            if data:
                self.offset += len(data)
                self._breaks = 0
                return data
            self.close()
            self._breaks += 1
            if self._breaks > self._max_breaks:
                raise HostError(
                    f"{self.what}: the download broke at byte {self.offset} of {self.size} "
                    f"{self._breaks} times in a row" + (f": {error}" if error else "")
                ) from error
            if self._breaks > 1:  # the first time at once, then backing off a little
                time.sleep(min(0.2 * 2 ** (self._breaks - 2), 2.0))

    def _reopen(self) -> BlobResponse:
        """The rest of the blob from ``offset``: a 206 starting there, or a 200 read up to it."""
        self.resumed += 1
        response = self._open_at(self.offset)
        if response.status == 206:
            found = _CONTENT_RANGE.fullmatch(response.header("Content-Range").strip())
            if found is None or int(found.group(1)) != self.offset:
                response.close()
                raise HostError(
                    f"{self.what}: asked for the blob from byte {self.offset}, the registry "
                    f"answered {response.header('Content-Range') or 'without a Content-Range'}"
                )
            return response
        skip = self.offset  # the registry ignored Range: read past what we have
        while skip:
            chunk = response.read(min(skip, 1 << 20))
            if not chunk:
                response.close()
                raise HostError(f"{self.what}: the registry sent less than before")
            skip -= len(chunk)
        return response

    def close(self) -> None:
        if self._response is not None:
            response, self._response = self._response, None
            response.close()
