"""The ``dockyard`` CLI on a real pseudo-terminal, as a user's shell would run it.

The CLI gets a new session whose controlling terminal is the pty's slave
(so window changes reach it as SIGWINCH, as they do from a terminal
emulator); the test types into the master and reads what the terminal
shows. The slave stays open here too, so the test can read the terminal's
modes (raw or not) while and after the CLI runs.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


class PtySession:
    def __init__(self, args: list[str], env: dict[str, str], rows: int = 24, cols: int = 80):
        self.master, self.slave = os.openpty()
        self.resize(rows, cols)
        self.cooked = termios.tcgetattr(self.slave)
        self.seen = b""
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child execs at once
            try:
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                os.closerange(3, 1024)
                os.execve(DOCKYARD, [DOCKYARD, *args], env)
            finally:
                os._exit(127)
        self.status: int | None = None

    def resize(self, rows: int, cols: int) -> None:
        """Change the window, as a terminal emulator does: the CLI gets SIGWINCH."""
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str | bytes) -> None:
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def expect(self, wanted: str | bytes, timeout: float = 60.0) -> bytes:
        """Read until ``wanted`` appears after what earlier calls consumed; the text up to it."""
        pattern = wanted.encode() if isinstance(wanted, str) else wanted
        deadline = time.monotonic() + timeout
        while pattern not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError(f"{pattern!r} never came; the terminal showed {self.seen!r}")
        before, _, self.seen = self.seen.partition(pattern)
        return before + pattern

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], min(timeout, 0.2))
        if ready:
            try:
                self.seen += os.read(self.master, 65536)
            except OSError:
                return False
        return True

    def raw(self) -> bool:
        """True while the terminal is in raw mode (no echo, no line editing, no signals)."""
        lflag = termios.tcgetattr(self.slave)[3]
        return not lflag & (termios.ECHO | termios.ICANON | termios.ISIG)

    def modes_restored(self) -> bool:
        return termios.tcgetattr(self.slave) == self.cooked

    def wait(self, timeout: float = 60.0) -> int:
        """The CLI's exit status (what a shell's $? shows)."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the CLI still runs; the terminal showed {self.seen!r}")
            self._read(0.05)
        code = self.status
        return code if code >= 0 else 128 - code

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.status = -9
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> PtySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
