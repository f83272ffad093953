"""A registry's answer, read under a deadline: a stalled or drip-fed body fails, clearly.

The socket's timeout catches a registry that goes silent (headers, then
nothing). It cannot catch one that sends a byte now and then: every wait is
short, and a blob would take days. So the body is also held to a minimum
rate, curl's ``--speed-limit``/``--speed-time``: over each window of
``stall_timeout`` seconds at least ``min_rate`` bytes a second must arrive.
Reads go one system call at a time (``read1``), so the check runs while a
slow body trickles in, not only after a large read finally completes.

A stall is `TransferStalled`: it is not resumed or retried (resume.py,
copy.py), since the same registry would only stall again.
"""

from __future__ import annotations

import http.client
import time

from dockyard.errors import HostError

from .options import ClientOptions

_SETTINGS = "DOCKYARD_REGISTRY_STALL_TIMEOUT and DOCKYARD_REGISTRY_MIN_RATE set the limits"


class TransferStalled(HostError):
    """A registry stopped sending, or sends too slowly to ever finish."""


class RateWatch:
    """Counts bytes per window of ``window`` seconds; raises when one falls below the rate."""

    def __init__(self, window: float, min_rate: int, what: str) -> None:
        self.window = window
        self.min_rate = min_rate
        self.what = what
        self._start = time.monotonic()
        self._count = 0

    def feed(self, amount: int) -> None:
        self._count += amount
        now = time.monotonic()
        elapsed = now - self._start
        if elapsed < self.window:
            return
        if self._count < self.min_rate * elapsed:
            raise TransferStalled(
                f"{self.what}: stalled: {self._count} bytes in {elapsed:.0f} s, below the "
                f"minimum of {self.min_rate} bytes a second ({_SETTINGS})"
            )
        self._start, self._count = now, 0


def silence(what: str, timeout: float, exc: BaseException) -> TransferStalled:
    """The error for a registry that sent nothing for ``timeout`` seconds."""
    error = TransferStalled(f"{what}: the registry sent nothing for {timeout:g} s ({_SETTINGS})")
    error.__cause__ = exc
    return error


class Response:
    """A response whose body may be streamed; use it as a context manager."""

    def __init__(
        self,
        raw: http.client.HTTPResponse,
        conn: http.client.HTTPConnection,
        url: str,
        options: ClientOptions,
        what: str,
    ) -> None:
        self.raw = raw
        self.status = raw.status
        self.headers = raw.headers
        self.url = url
        self.what = what
        self.attempts = 1  # how many times the request was sent (retries of 429 and 5xx)
        self._conn = conn
        self._timeout = options.stall_timeout
        self._watch = RateWatch(options.stall_timeout, options.min_rate, what)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)

    def read(self, amount: int | None = None) -> bytes:
        """Up to ``amount`` bytes (all that is left if None); fewer only at the end."""
        if amount is None or amount < 0:
            parts = []
            while part := self.read(1 << 20):
                parts.append(part)
            return b"".join(parts)
        parts, count = [], 0
        while count < amount:
            part = self._read_some(amount - count)
            if not part:
                break
            parts.append(part)
            count += len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read_some(self, amount: int) -> bytes:
        try:
            part = self.raw.read1(amount)
        except TimeoutError as exc:
            self._conn.close()
            raise silence(self.what, self._timeout, exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            self._conn.close()
            raise HostError(f"{self.what}: the connection broke: {exc}") from exc
        if not part:
            return part
        if self.raw.length == 0 and not self.raw.chunked:
            # What read() does at the end of a body: the connection may be reused.
            self.raw.close()
        try:
            self._watch.feed(len(part))
        except TransferStalled:
            self._conn.close()
            raise
        return part

    def close(self) -> None:
        if not self.raw.isclosed():
            # Unread body: the connection cannot be reused.
            self._conn.close()
        self.raw.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
