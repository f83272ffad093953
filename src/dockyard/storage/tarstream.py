"""A layer's tar stream, read forward only, with file contents copied straight to disk.

``tarfile`` parses the headers (ustar, GNU and pax, long names, xattrs);
`LayerStream` is the file object it reads them from. tarfile's own stream
mode (``r|``) re-slices its whole buffer on every read, which for layers of
many small files costs more than all the rest of the unpack; here a read
takes what it needs from the current chunk, and a file's contents go to its
descriptor as slices of that chunk (`copy_to`), never copied in Python.

The stream only moves forward: tarfile's one backward step (to re-read the
last byte of a member's padding) stays inside the current chunk; a header
that points further back (a negative size) is refused.
"""

from __future__ import annotations

import os
from typing import Protocol

from dockyard.errors import InvalidArgument


class Readable(Protocol):
    def read(self, amount: int = ..., /) -> bytes: ...


class HostileLayer(InvalidArgument):
    """The layer tries to reach outside its directory, or is absurdly large."""

    def __init__(self, entry: str, problem: str) -> None:
        super().__init__(f"refusing the layer: entry {entry!r}: {problem}")
        self.entry = entry
        self.problem = problem


class LayerStream:
    """What ``tarfile.TarFile`` needs of a file (read, tell, seek), over a forward stream."""

    def __init__(
        self, source: Readable, chunk_size: int = 1 << 20, max_read: int = 16 << 20
    ) -> None:
        self._source = source
        self._chunk_size = chunk_size
        self._max_read = max_read  # headers only: pax records, GNU long names
        self._chunk = memoryview(b"")
        self._start = 0  # archive offset of the chunk's first byte
        self._pos = 0  # read position inside the chunk
        self._eof = False

    def _next_chunk(self) -> bool:
        """Move on to the next chunk of the source; False at its end."""
        if self._eof:
            return False
        data = self._source.read(self._chunk_size)
        if not data:
            self._eof = True
            return False
        self._start += len(self._chunk)
        self._chunk = memoryview(data)
        self._pos = 0
        return True

    def _available(self) -> int:
        """Bytes left in the current chunk, fetching the next one if it is used up."""
        left = len(self._chunk) - self._pos
        if left <= 0 and self._next_chunk():
            left = len(self._chunk)
        return max(left, 0)

    def tell(self) -> int:
        return self._start + self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > self._max_read:
            raise HostileLayer("(tar header)", f"a header of {size} bytes is more than allowed")
        parts: list[memoryview] = []
        while size > 0 and self._available():
            part = self._chunk[self._pos : self._pos + size]
            self._pos += len(part)
            size -= len(part)
            parts.append(part)
        return b"".join(parts)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET:
            raise InvalidArgument("a layer stream seeks to absolute offsets only")
        if offset < self._start:
            raise HostileLayer("(tar header)", "a header points back into the archive")
        while offset > self._start + len(self._chunk):
            if not self._next_chunk():
                self._pos = len(self._chunk)  # past the end: the next read finds nothing
                return self.tell()
        self._pos = offset - self._start
        return offset

    def copy_to(self, fd: int, size: int, entry: str) -> None:
        """Write the next ``size`` bytes of the archive to ``fd``."""
        while size > 0:
            if not self._available():
                raise HostileLayer(entry, "the archive ends inside the file")
            view = self._chunk[self._pos : self._pos + size]
            self._pos += len(view)
            size -= len(view)
            while view:
                view = view[os.write(fd, view) :]
