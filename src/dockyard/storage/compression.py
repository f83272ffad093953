"""Layer streams in and out of gzip and zstd, told apart by their magic bytes.

gzip goes through ISA-L (the ``isal`` package) when it is installed, about
three times zlib's speed, else through zlib; zstd needs the ``zstandard``
package and is refused with a clear error without it.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import IO, Any, Protocol

from dockyard.errors import InvalidArgument, Unsupported

_igzip: Any
_isal_zlib: Any
try:
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - depends on the host
    _igzip = None
    _isal_zlib = None

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class Readable(Protocol):
    def read(self, amount: int = ..., /) -> bytes: ...


class CorruptStream(InvalidArgument):
    """The layer's gzip or zstd stream cannot be decompressed."""


class PeekReader:
    """A reader that lets its first bytes be looked at before they are consumed."""

    def __init__(self, source: Readable) -> None:
        self.source = source
        self._head = b""

    def peek(self, size: int) -> bytes:
        while len(self._head) < size:
            more = self.source.read(size - len(self._head))
            if not more:
                break
            self._head += more
        return self._head[:size]

    def read(self, amount: int = -1) -> bytes:
        if self._head:
            if amount is None or amount < 0 or amount >= len(self._head):
                head, self._head = self._head, b""
                if amount is not None and amount >= 0:
                    return head
                return head + self.source.read()
            head, self._head = self._head[:amount], self._head[amount:]
            return head
        return self.source.read(amount)

    def readable(self) -> bool:
        return True


def detect(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return ""


class _GzipReader:
    """Streaming multi-member gzip decompression through isal_zlib or zlib."""

    def __init__(self, source: Readable) -> None:
        self.source = source
        self._zlib: Any = _isal_zlib or zlib
        self._d = self._zlib.decompressobj(31)
        self._fresh = True  # the current member has had no input yet
        self._pending = b""
        self._eof = False

    def _next_input(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        return self.source.read(1 << 20)

    def read(self, amount: int = -1) -> bytes:
        try:
            return self._read(amount)
        except self._zlib.error as exc:
            raise CorruptStream(f"the layer is not valid gzip: {exc}") from exc

    def _read(self, amount: int) -> bytes:
        if amount is None or amount < 0:
            amount = 1 << 30
        while not self._eof:
            if self._d.unconsumed_tail:
                data = self._d.decompress(self._d.unconsumed_tail, amount)
            else:
                chunk = self._next_input()
                if not chunk:
                    if not self._fresh:
                        raise CorruptStream("the layer's gzip stream ends early")
                    self._eof = True
                    return b""
                if self._fresh:
                    chunk = chunk.lstrip(b"\0")  # zero padding between or after members
                    if not chunk:
                        continue
                    self._fresh = False
                data = self._d.decompress(chunk, amount)
            data = bytes(data)
            if self._d.eof:
                self._pending = self._d.unused_data + self._pending
                self._d = self._zlib.decompressobj(31)
                self._fresh = True
            if data:
                return data
        return b""


def decompressed(source: Readable) -> tuple[Readable, str]:
    """A reader of ``source`` decompressed, and the compression found ('' if none)."""
    peek = PeekReader(source)
    kind = detect(peek.peek(4))
    if kind == "gzip":
        return _GzipReader(peek), kind
    if kind == "zstd":
        try:
            import zstandard
        except ImportError as exc:
            raise Unsupported(
                "the layer is zstd-compressed and the zstandard package is not installed"
            ) from exc
        reader = zstandard.ZstdDecompressor().stream_reader(
            peek,  # type: ignore[arg-type]
            read_size=1 << 20,
            read_across_frames=True,
        )
        return _ZstdReader(reader, zstandard.ZstdError), kind
    return peek, kind


class _ZstdReader:
    """zstandard's stream reader, its errors turned into `CorruptStream`."""

    def __init__(self, reader: Any, error: type[Exception]) -> None:
        self._reader = reader
        self._error = error

    def read(self, amount: int = -1) -> bytes:
        try:
            data: bytes = self._reader.read(amount)
        except self._error as exc:
            raise CorruptStream(f"the layer is not valid zstd: {exc}") from exc
        return data


def gzip_writer(fileobj: IO[bytes], level: int = 1) -> IO[bytes]:
    """A gzip compressor writing into ``fileobj`` (ISA-L when available)."""
    if _igzip is not None:
        writer: IO[bytes] = _igzip.GzipFile(
            fileobj=fileobj, mode="wb", compresslevel=min(level, 3), mtime=0
        )
        return writer
    import gzip

    return gzip.GzipFile(fileobj=fileobj, mode="wb", compresslevel=level, mtime=0)  # type: ignore[return-value]


class HashingReader:
    """Hashes (sha256) and counts everything read through it."""

    def __init__(self, source: Readable) -> None:
        self.source = source
        self.count = 0
        self._hash = hashlib.sha256()

    def read(self, amount: int = -1) -> bytes:
        data = self.source.read(amount)
        self.count += len(data)
        self._hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()
