"""Digests: computing them, and streams that check one as they are read."""

from __future__ import annotations

import hashlib
from typing import IO, Protocol

from dockyard.errors import HostError, InvalidArgument
from dockyard.oci.image_spec import is_valid_digest


class DigestMismatch(HostError):
    """A blob's content does not match its descriptor: refused, never used."""


class Readable(Protocol):
    def read(self, amount: int = ..., /) -> bytes: ...


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hasher(digest: str) -> hashlib._Hash:
    algorithm = digest.partition(":")[0]
    if not is_valid_digest(digest):
        raise InvalidArgument(f"{digest!r} is not a sha256 or sha512 digest")
    return hashlib.new(algorithm)


def hex_of(digest: str) -> str:
    if not is_valid_digest(digest):
        raise InvalidArgument(f"{digest!r} is not a sha256 or sha512 digest")
    return digest.partition(":")[2]


def verify_bytes(data: bytes, digest: str, size: int | None, what: str) -> bytes:
    if size is not None and size >= 0 and len(data) != size:
        raise DigestMismatch(f"{what}: {len(data)} bytes, expected {size}")
    h = hasher(digest)
    h.update(data)
    actual = f"{digest.partition(':')[0]}:{h.hexdigest()}"
    if actual != digest:
        raise DigestMismatch(f"{what}: content is {actual}, expected {digest}")
    return data


class VerifyingReader:
    """Reads ``source`` while counting and hashing; at its end checks size and digest.

    Reading past the declared size is an error at once, so a hostile server
    cannot feed an endless body.
    """

    def __init__(
        self,
        source: Readable | IO[bytes],
        digest: str,
        size: int,
        what: str,
        on_read: object = None,
    ) -> None:
        self.source = source
        self.digest = digest
        self.size = size
        self.what = what
        self.count = 0
        self._hash = hasher(digest)
        self._done = False
        self._on_read = on_read

    def read(self, amount: int = -1) -> bytes:
        if self._done:
            return b""
        if amount is None or amount < 0:
            amount = max(self.size - self.count, 0) + 1
        data = self.source.read(min(amount, max(self.size - self.count, 0) + 1))
        if data:
            self.count += len(data)
            if self.count > self.size:
                raise DigestMismatch(f"{self.what}: more than the expected {self.size} bytes")
            self._hash.update(data)
            if callable(self._on_read):
                self._on_read(len(data))
        else:
            self._finish()
        return data

    def _finish(self) -> None:
        self._done = True
        if self.count != self.size:
            raise DigestMismatch(f"{self.what}: {self.count} bytes, expected {self.size}")
        actual = f"{self.digest.partition(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest:
            raise DigestMismatch(f"{self.what}: content is {actual}, expected {self.digest}")

    def drain(self) -> None:
        """Read to the end (verifying) whatever the consumer left unread."""
        while self.read(1 << 20):
            pass
