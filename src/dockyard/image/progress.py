"""Per-layer progress, the way ``docker pull`` and ``docker push`` show it.

On a terminal each layer has a line that is rewritten in place (cursor
movements); elsewhere each layer event without a progress bar is a line, as
Docker's CLI prints them when its output is not a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def human_size(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.3g}{unit}" if unit != "B" else f"{int(size)}B"
        size /= 1000
    return f"{size:.3g}TB"


class Progress:
    """Quiet: the base class prints nothing per layer."""

    def start(self, key: str, status: str, total: int = 0) -> None:
        pass

    def advance(self, key: str, amount: int) -> None:
        pass

    def status(self, key: str, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class TerminalProgress(Progress):
    def __init__(self, out: TextIO | None = None, interval: float = 0.1) -> None:
        self.out = out or sys.stdout
        self.interval = interval
        self._order: list[str] = []
        self._lines: dict[str, list[object]] = {}  # key -> [status, current, total]
        self._lock = threading.Lock()
        self._drawn = 0
        self._last = 0.0

    def start(self, key: str, status: str, total: int = 0) -> None:
        with self._lock:
            if key not in self._lines:
                self._order.append(key)
            self._lines[key] = [status, 0, total]
            self._draw(force=True)

    def advance(self, key: str, amount: int) -> None:
        with self._lock:
            line = self._lines.get(key)
            if line is not None:
                line[1] = int(str(line[1])) + amount
                self._draw()

    def status(self, key: str, status: str) -> None:
        with self._lock:
            line = self._lines.setdefault(key, [status, 0, 0])
            if key not in self._order:
                self._order.append(key)
            line[0] = status
            self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        parts = []
        if self._drawn:
            parts.append(f"\x1b[{self._drawn}A")
        for key in self._order:
            status, current, total = self._lines[key]
            text = f"{key[:12]}: {status}"
            if status in ("Downloading", "Pushing", "Extracting") and total:
                cur, tot = int(str(current)), int(str(total))
                width = 50
                filled = min(width, cur * width // max(tot, 1))
                bar = "=" * max(filled - 1, 0) + (">" if filled else "") + " " * (width - filled)
                text += f" [{bar}]  {human_size(cur)}/{human_size(tot)}"
            parts.append(f"\x1b[2K{text}\n")
        self._drawn = len(self._order)
        self.out.write("".join(parts))
        self.out.flush()

    def close(self) -> None:
        with self._lock:
            self._draw(force=True)


class LineProgress(Progress):
    """Not a terminal: a line per layer event, as Docker's CLI prints its daemon's messages
    there (those without a progress bar: no Downloading, Extracting or Pushing lines).

    A layer's first line waits for its first news, so that a layer the store already
    has says only "Already exists", as Docker's does. Download and extraction are one
    stream here: its digest is checked at its end, so "Verifying Checksum" and
    "Download complete" are said with "Pull complete"."""

    HIDDEN = ("Downloading", "Extracting", "Pushing")

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._first: dict[str, str] = {}  # key -> its first status, not yet printed
        self._seen: set[str] = set()

    def start(self, key: str, status: str, total: int = 0) -> None:
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)
                self._first[key] = status
                return
        self.status(key, status)

    def status(self, key: str, status: str) -> None:
        lines = []
        with self._lock:
            self._seen.add(key)
            first = self._first.pop(key, None)
            if first and status != "Already exists":
                lines.append(first)
            if status == "Pull complete":
                lines += ["Verifying Checksum", "Download complete"]
            if status not in self.HIDDEN:
                lines.append(status)
            self.out.write("".join(f"{key[:12]}: {line}\n" for line in lines))
            self.out.flush()

    def close(self) -> None:
        with self._lock:
            left, self._first = self._first, {}
            self.out.write("".join(f"{key[:12]}: {line}\n" for key, line in left.items()))
            self.out.flush()


def for_stream(out: TextIO, quiet: bool = False) -> Progress:
    if quiet:
        return Progress()
    return TerminalProgress(out) if out.isatty() else LineProgress(out)
