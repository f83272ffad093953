"""Child processes a test starts, ended and waited for on every way out."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def reaped(*procs: subprocess.Popen[bytes]) -> Iterator[None]:
    """On leaving, a failed assertion included: kill what still runs, wait for it
    and close its pipes. A process left running (or a pipe left open) after a
    failure would otherwise outlive its test and warn, as an error, in a later one."""
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state T in /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] == "T"
