"""The user's side of a container's stdio: the terminal, its size, and signals.

Shared by ``run``, ``start -a``, ``attach`` and ``exec``. With ``-t`` and
stdin attached, the user's terminal is put in raw mode (keys go to the
container as typed; ctrl-c is a byte for the container's terminal, not a
signal for us) and restored on every way out: the container's end, a
detach, an error, and SIGTERM, SIGHUP, SIGINT or SIGQUIT sent to this
process (each ends the attachment as an exception that unwinds through
the restore). The container's terminal takes our window size before the
container starts and again on every SIGWINCH, through the monitor's
control FIFO. Without a terminal, signals are proxied to the container
instead (``--sig-proxy``, Docker's default), as ``runtime kill`` would.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal.py costs ~10 ms (enum)
import posix

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from dockyard.engine.attach import Foreground
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGWINCH = 1, 2, 3, 15, 28
#: what a non-terminal client passes on to the container (Docker forwards all but a few)
PROXIED = (1, 2, 3, 10, 12, 14, 15, 28)
#: what ends a raw-mode attachment (after the terminal is restored)
ENDING = (SIGHUP, SIGINT, SIGQUIT, SIGTERM)


class Interrupted(BaseException):
    """A signal ended the attachment; the CLI exits 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class NotATerminal(InvalidArgument):
    """Docker's CLI refuses -it without a terminal before asking the daemon: exit 1."""


def check_tty(attach_stdin: bool, tty: bool) -> None:
    """Docker's check: a terminal for the container needs one to read from."""
    if attach_stdin and tty and not posix.isatty(0):
        raise NotATerminal("the input device is not a TTY")


def window_size() -> tuple[int, int] | None:
    """(rows, columns) of our terminal (stdout's, else stdin's), None without one."""
    import fcntl
    import termios

    for fd in (1, 0):
        if not posix.isatty(fd):
            continue
        try:
            raw = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        except OSError:
            continue
        rows, cols = int.from_bytes(raw[0:2], "little"), int.from_bytes(raw[2:4], "little")
        if rows and cols:
            return rows, cols
    return None


class Terminal:
    """A container terminal's user side: ``attached`` sizes it (and makes ours raw),
    ``close`` puts everything back. Use as a context manager around the attachment."""

    def __init__(self, raw: bool, nudge: bool = False) -> None:
        self.raw = raw and posix.isatty(0)
        self.nudge = nudge  # attach: a size change first, so a shell redraws its prompt
        self.ctl = ""
        self._saved: list[Any] | None = None
        self._handlers: dict[int, object] = {}

    def attached(self, ctl_path: str) -> None:
        """The monitor's control FIFO exists: size the container's terminal, go raw."""
        self.ctl = ctl_path
        size = window_size()
        if size is not None:
            if self.nudge:
                self._resize((size[0] + 1, size[1] + 1))
            self._resize(size)
            self._catch(SIGWINCH, self._on_winch)
        if self.raw:
            import termios
            import tty

            self._saved = termios.tcgetattr(0)
            for signum in ENDING:
                self._catch(signum, _end)
            tty.setraw(0, termios.TCSANOW)

    def _resize(self, size: tuple[int, int]) -> None:
        from dockyard.engine.attach import send_ctl

        send_ctl(self.ctl, f"resize {size[0]} {size[1]}")

    def _on_winch(self, signum: int, frame: object) -> None:
        size = window_size()
        if size is not None:
            self._resize(size)

    def _catch(self, signum: int, handler: object) -> None:
        previous = _signal.signal(signum, handler)
        self._handlers.setdefault(signum, previous)

    def close(self) -> None:
        if self._saved is not None:
            import termios

            try:
                termios.tcsetattr(0, termios.TCSADRAIN, self._saved)
            except termios.error:
                pass  # the terminal is gone (hung up): nothing to restore
            self._saved = None
        for signum, handler in self._handlers.items():
            _signal.signal(signum, handler)
        self._handlers.clear()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end(signum: int, frame: object) -> None:
    for each in ENDING:
        _signal.signal(each, _signal.SIG_IGN)  # the restore must not be cut short
    raise Interrupted(signum)


def proxy_signals(engine: Engine, rec: ContainerRecord) -> None:
    """Forward the signals this process gets to the container's init (Docker's --sig-proxy)."""
    runtime = engine.runtime_for(rec.host.runtime)

    def forward(signum: int, frame: object) -> None:
        try:
            runtime.kill(rec.id, signum)
        except Exception:
            pass  # it ended meanwhile: its exit ends the attachment too

    for signum in PROXIED:
        if signum == SIGWINCH and rec.config.tty:
            continue  # a terminal's size goes to the monitor (Terminal), not as a signal
        _signal.signal(signum, forward)


def container_ctl(engine: Engine, container_id: str) -> str:
    from dockyard.engine.launch import CTL_FIFO

    return f"{engine.paths.run_dir(container_id)}/{CTL_FIFO}"


def user_stdio(
    tty: bool,
    stdin: bool,
    keys: bytes,
    ctl: Callable[[ContainerRecord], str],
    out: bool = True,
    err: bool = True,
    nudge: bool = False,
) -> tuple[Foreground, Terminal]:
    """Our stdio as a foreground client of the container's (or an exec's) monitor:
    stdout/stderr written out (or dropped), stdin read with ``stdin``, and with
    ``tty`` the terminal sized through the FIFO ``ctl`` names (raw with stdin)."""
    from dockyard.engine.attach import Foreground, write_all

    terminal = Terminal(raw=tty and stdin, nudge=nudge)

    def discard(data: bytes) -> None:
        pass

    def attached(rec: ContainerRecord) -> None:
        if tty:
            terminal.attached(ctl(rec))

    fg = Foreground(
        out=(lambda data: write_all(1, data)) if out else discard,
        err=(lambda data: write_all(2, data)) if err else discard,
        stdin_fd=0 if stdin else None,
        detach_keys=keys,
        on_attached=attached,
        on_ended=terminal.close,
    )
    return fg, terminal
