"""ResumingReader: a blob download that breaks goes on from where it broke."""

from __future__ import annotations

import os

import pytest

from dockyard.errors import HostError
from dockyard.image.resume import ResumingReader

BLOB = os.urandom(10_000)


class FakeResponse:
    """A blob body that may stop (``cut``) or fail (``error``) after some bytes."""

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        content_range: str = "",
        cut: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.body = body
        self.status = status
        self.content_range = content_range
        self.cut = len(body) if cut is None else cut
        self.error = error
        self.pos = 0
        self.closed = False

    def header(self, name: str, default: str = "") -> str:
        return self.content_range if name == "Content-Range" else default

    def read(self, amount: int | None = None) -> bytes:
        if self.pos >= self.cut:
            if self.error is not None:
                raise self.error
            return b""
        end = min(self.cut, self.pos + (amount or len(self.body)))
        data, self.pos = self.body[self.pos : end], end
        return data

    def close(self) -> None:
        self.closed = True


class Registry:
    """Opens the blob at an offset; ``plan`` says how each successive answer misbehaves."""

    def __init__(self, plan: list[dict[str, object]], honour_range: bool = True) -> None:
        self.plan = plan
        self.honour_range = honour_range
        self.offsets: list[int] = []
        self.responses: list[FakeResponse] = []

    def open_at(self, offset: int) -> FakeResponse:
        self.offsets.append(offset)
        how = self.plan[len(self.offsets) - 1] if len(self.offsets) <= len(self.plan) else {}
        if offset and self.honour_range:
            start = int(how.pop("start", offset))  # type: ignore[call-overload]
            rng = f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"
            response = FakeResponse(BLOB[start:], 206, rng, **how)  # type: ignore[arg-type]
        else:
            response = FakeResponse(BLOB, **how)  # type: ignore[arg-type]
        self.responses.append(response)
        return response


def read_all(reader: ResumingReader, chunk: int = 1000) -> bytes:
    out = b""
    while data := reader.read(chunk):
        out += data
    return out


def test_a_body_that_ends_early_is_picked_up_with_a_range_request() -> None:
    registry = Registry([{"cut": 4321}])

    reader = ResumingReader(registry.open_at, len(BLOB), "blob")

    assert read_all(reader) == BLOB
    assert registry.offsets == [0, 4321]
    assert reader.resumed == 1


def test_a_connection_reset_is_picked_up_too() -> None:
    registry = Registry(
        [{"cut": 3000, "error": ConnectionResetError()}, {"cut": 2000, "error": TimeoutError()}]
    )

    reader = ResumingReader(registry.open_at, len(BLOB), "blob")

    assert read_all(reader, 700) == BLOB
    assert registry.offsets == [0, 3000, 5000]
    assert all(r.closed for r in registry.responses[:2])


def test_a_registry_that_ignores_range_is_read_past_what_we_have() -> None:
    registry = Registry([{"cut": 6000}], honour_range=False)

    reader = ResumingReader(registry.open_at, len(BLOB), "blob")

    assert read_all(reader) == BLOB
    assert registry.offsets == [0, 6000]


def test_an_answer_from_the_wrong_offset_is_refused() -> None:
    registry = Registry([{"cut": 5000}, {"start": 0}])
    reader = ResumingReader(registry.open_at, len(BLOB), "blob", max_breaks=1)

    with pytest.raises(HostError, match="from byte 5000"):
        read_all(reader)


def test_breaks_without_progress_give_up() -> None:
    registry = Registry([{"cut": 100}, {"cut": 0}, {"cut": 0}])
    reader = ResumingReader(registry.open_at, len(BLOB), "blob sha256:x", max_breaks=1)

    with pytest.raises(HostError, match="broke at byte 100 of 10000"):
        read_all(reader)


def test_nothing_past_the_size_is_read() -> None:
    registry = Registry([])
    reader = ResumingReader(registry.open_at, 5000, "blob")

    assert read_all(reader) == BLOB[:5000]
    assert registry.responses[0].closed
