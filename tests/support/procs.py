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


class ChildTracker:
    """Every `subprocess.Popen` a test's body starts, so that what it leaves running
    (after a failure, say) is ended before the next test: a child left running, or
    its pipes left open, warns when it is collected, as an error, in whatever test
    runs then."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []
        self._original: object = None

    def start(self) -> None:
        original = subprocess.Popen.__init__
        started = self.started

        def tracked(popen: subprocess.Popen[bytes], *args: object, **kwargs: object) -> None:
            original(popen, *args, **kwargs)  # type: ignore[arg-type]
            started.append(popen)

        self._original = original
        subprocess.Popen.__init__ = tracked  # type: ignore[assignment, method-assign]

    def stop(self) -> None:
        if self._original is not None:
            subprocess.Popen.__init__ = self._original  # type: ignore[method-assign]
            self._original = None

    def reap(self, grace: float = 5) -> list[str]:
        """Wait ``grace`` seconds for each child still running, then kill it; close
        every pipe. Returns the command lines of the children that had to be killed."""
        killed = []
        procs, self.started[:] = list(self.started), []
        for proc in procs:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    killed.append(str(proc.args))
                    proc.kill()
                    proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        return killed
