"""Poll for something a container does asynchronously, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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
