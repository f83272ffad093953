"""The line protocol between the runtime and the container's init process.

A pair of pipes, not a socket: ``socket`` costs milliseconds to import and
pipes are all two processes on one machine need. Messages are one line of
text: a word and an optional argument ("pid 4242", "error no such file").
"""

from __future__ import annotations

import posix


class ChannelClosed(Exception):
    """The other side went away without a word (it died)."""


class Channel:
    __slots__ = ("_buffer", "read_fd", "write_fd")

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self._buffer = b""

    def send(self, word: str, arg: str = "") -> None:
        line = (f"{word} {arg}" if arg else word).replace("\n", " ") + "\n"
        try:
            posix.write(self.write_fd, line.encode())
        except BrokenPipeError:
            raise ChannelClosed() from None

    def send_words(self, *words: str) -> None:
        """Several messages without arguments in one write: one wakeup of the reader."""
        try:
            posix.write(self.write_fd, "".join(f"{word}\n" for word in words).encode())
        except BrokenPipeError:
            raise ChannelClosed() from None

    def recv(self) -> tuple[str, str]:
        while b"\n" not in self._buffer:
            chunk = posix.read(self.read_fd, 4096)
            if not chunk:
                raise ChannelClosed()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        word, _, arg = line.decode(errors="replace").partition(" ")
        return word, arg

    def close(self) -> None:
        """Close both ends; again is a no-op (a descriptor number may be reused)."""
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                try:
                    posix.close(fd)
                except OSError:
                    pass
        self.read_fd = self.write_fd = -1


def pair() -> tuple[Channel, Channel]:
    """(runtime side, init side), every descriptor close-on-exec."""
    to_init_r, to_init_w = posix.pipe2(posix.O_CLOEXEC)
    to_runtime_r, to_runtime_w = posix.pipe2(posix.O_CLOEXEC)
    return Channel(to_runtime_r, to_init_w), Channel(to_init_r, to_runtime_w)
