"""A client of the monitor's attach socket: output frames in, stdin out.

Without a terminal the monitor sends Docker's stdcopy frames (an 8-byte
header: stream 1 or 2, three zero bytes, the payload's size as a big-endian
u32); with one, raw bytes. `relay` copies them to two writers until the
monitor closes the connection (after the exit file is written), forwarding
an input descriptor to the container meanwhile and half-closing the socket
at the input's end (the monitor then closes the container's stdin when
``--stdin-once``).
"""

from __future__ import annotations

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Writer = Callable[[bytes], None]

STDOUT, STDERR = 1, 2


class FrameReader:
    """Feed it bytes; it calls ``out``/``err`` with each frame's payload as it completes."""

    __slots__ = ("_buf", "err", "out", "raw")

    def __init__(self, out: Writer, err: Writer, raw: bool = False) -> None:
        self.out = out
        self.err = err
        self.raw = raw
        self._buf = b""

    def feed(self, data: bytes) -> None:
        if self.raw:
            self.out(data)
            return
        buf = self._buf + data
        while len(buf) >= 8:
            size = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + size:
                break
            payload = buf[8 : 8 + size]
            (self.err if buf[0] == STDERR else self.out)(payload)
            buf = buf[8 + size :]
        self._buf = buf


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[posix.write(fd, view) :]
        except BrokenPipeError:
            return


def relay(sock: int, reader: FrameReader, stdin_fd: int | None = None) -> None:
    """Copy the monitor's output to ``reader`` (and ``stdin_fd`` to it) until it closes."""
    from dockyard.linux import libc

    watching = [(sock, libc.POLLIN)]
    if stdin_fd is not None:
        watching.append((stdin_fd, libc.POLLIN))
    while True:
        for fd, events in libc.poll(watching, None):
            if fd == sock:
                try:
                    data = posix.read(sock, 65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    return
                reader.feed(data)
            elif events:
                try:
                    data = posix.read(fd, 65536)
                except OSError:
                    data = b""
                if data:
                    write_all(sock, data)
                else:
                    watching = [w for w in watching if w[0] != fd]
                    _half_close(sock)


def _half_close(sock: int) -> None:
    import _socket

    s = _socket.socket(fileno=posix.dup(sock))
    try:
        s.shutdown(_socket.SHUT_WR)
    except OSError:
        pass
    finally:
        s.close()
