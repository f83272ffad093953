"""A foreground ``run`` with ``process.terminal``: receive the pty master and relay it.

Without --console-socket runc itself holds the pty: it makes a socket pair,
receives the master from the container's init like any console socket
would, puts its own terminal in raw mode and copies bytes both ways until
the container closes its side.
"""

from __future__ import annotations

import os


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
    raise OSError(5, "the container's init sent no terminal")


def relay(master: int) -> None:
    """Copy stdin to the pty and the pty to stdout until the container's side closes."""
    import select

    saved = _raw_mode(0)
    try:
        _copy_window_size(0, master)
        inputs = [master, 0]
        while True:
            readable, _, _ = select.select(inputs, [], [])
            if master in readable:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave fd is closed
                    return
                if not data:
                    return
                _write_all(1, data)
            if 0 in readable:
                data = os.read(0, 65536)
                if data:
                    _write_all(master, data)
                else:
                    inputs.remove(0)
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSAFLUSH, saved)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _raw_mode(fd: int) -> list | None:  # type: ignore[type-arg]
    if not os.isatty(fd):
        return None
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    return saved


def _copy_window_size(tty_fd: int, master: int) -> None:
    if not os.isatty(tty_fd):
        return
    size = os.get_terminal_size(tty_fd)
    from dockyard.linux import libc

    libc.set_window_size(master, size.lines, size.columns)
