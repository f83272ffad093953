"""Poll for something a container does asynchronously, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T], what: str, timeout: float = 30, interval: float = 0.02) -> T:
    """Call ``probe`` until it returns something truthy; return that. The deadline only
    bounds a failure: on a loaded 2-core machine a probe that starts a CLI (a Python
    start-up) can take seconds, so it is generous."""
    deadline = time.monotonic() + timeout
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
    return result


def wait_for_path(path: Path, timeout: float = 30) -> Path:
    wait_for(path.exists, f"{path} to appear", timeout)
    return path


def read_until(
    stream: IO[bytes],
    done: Callable[[bytes], bool],
    what: str,
    timeout: float = 60,
    got: bytes = b"",
) -> bytes:
    """Read a child's output pipe until ``done(everything read)``; return everything read
    (``got`` first). Raises when the deadline passes or the pipe ends first: a process
    that prints late on a loaded machine is waited for, one that never does fails."""
    import os
    import selectors

    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not done(got):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}: {got!r}")
            if selector.select(left):
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"the output ended before {what}: {got!r}")
                got += chunk
    return got
