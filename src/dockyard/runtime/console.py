"""A foreground ``run`` with ``process.terminal``: receive the pty master and relay it.

Without --console-socket runc itself holds the pty: it makes a socket pair,
receives the master from the container's init like any console socket
would, puts its own terminal in raw mode and copies bytes both ways until
the container closes its side.
"""

from __future__ import annotations

import errno
import posix


def socket_pair() -> tuple[int, int]:
    """(our end, the end handed to the init), both close-on-exec."""
    import _socket

    ours, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    return ours.detach(), theirs.detach()


def receive_master(sock_fd: int) -> int:
    import _socket

    sock = _socket.socket(fileno=sock_fd)
    try:
        _, ancillary, _, _ = sock.recvmsg(1024, 64)
    finally:
        sock.close()
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            return int.from_bytes(data[:4], "little")
    raise OSError(errno.EIO, "the container's init sent no terminal")


def host_terminal() -> int | None:
    """The runtime's own terminal: the first of stderr, stdout and stdin that is
    one (runc's choice: any of them may be redirected)."""
    for fd in (2, 1, 0):
        if posix.isatty(fd):
            return fd
    return None


def copy_window_size(terminal: int | None, master: int) -> None:
    """Give the container's pty the size of our terminal. Best effort, as in
    runc: a terminal closed meanwhile leaves the size as it was."""
    if terminal is None:
        return
    from dockyard.linux import libc

    try:
        size = posix.get_terminal_size(terminal)
        libc.set_window_size(master, size.lines, size.columns)
    except OSError:
        return


def relay(master: int, terminal: int | None) -> None:
    """Copy stdin to the pty and the pty to stdout until the container's side closes.

    Our terminal is in raw mode meanwhile, and when it is resized (SIGWINCH)
    the pty gets its new size, which makes the kernel tell the container.
    """
    import _signal  # type: ignore[import-not-found]  # signal.py costs ~10 ms (enum)
    import select

    saved = _raw_mode(terminal) if terminal is not None else None
    _signal.signal(_signal.SIGWINCH, lambda signum, frame: copy_window_size(terminal, master))
    try:
        inputs = [master, 0]
        while True:
            readable, _, _ = select.select(inputs, [], [])
            if master in readable:
                try:
                    data = posix.read(master, 65536)
                except OSError:  # EIO: every slave fd is closed
                    return
                if not data:
                    return
                _write_all(1, data)
            if 0 in readable:
                data = posix.read(0, 65536)
                if data:
                    _write_all(master, data)
                else:
                    inputs.remove(0)
    finally:
        _signal.signal(_signal.SIGWINCH, _signal.SIG_DFL)
        if saved is not None and terminal is not None:
            import termios

            termios.tcsetattr(terminal, termios.TCSAFLUSH, saved)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[posix.write(fd, data) :]


def _raw_mode(fd: int) -> list:  # type: ignore[type-arg]
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    return saved
