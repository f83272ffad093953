"""A client of the monitor's attach socket: output frames in, stdin out.

Without a terminal the monitor sends Docker's stdcopy frames (an 8-byte
header: stream 1 or 2, three zero bytes, the payload's size as a big-endian
u32); with one, raw bytes. `relay` copies them to two writers until the
monitor closes the connection (after the exit file is written), forwarding
an input descriptor to the container meanwhile and half-closing the socket
at the input's end (the monitor then closes the container's stdin when
``--stdin-once``).

On a terminal the input is watched for the detach keys (Docker's ctrl-p
ctrl-q, or ``--detach-keys``): typed in sequence, they end the relay and
leave the container running; `DetachKeys` holds back a partial sequence
and lets it through the moment a key breaks it. `send_ctl` writes a line
(``resize ROWS COLS``) to a monitor's control FIFO.
"""

from __future__ import annotations

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from dockyard.engine.types import ContainerRecord

    Writer = Callable[[bytes], None]

STDOUT, STDERR = 1, 2
DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
#: Docker's names for the control characters, in code order (ctrl-@ is 0)
_CTRL = "@abcdefghijklmnopqrstuvwxyz[\\]^_"


def parse_detach_keys(text: str) -> bytes:
    """``ctrl-p,ctrl-q`` or ``ctrl-a,x`` -> the bytes (Docker's term.ToBytes); "" is the default."""
    from dockyard.errors import InvalidArgument

    codes = bytearray()
    for key in (text or DEFAULT_DETACH_KEYS).split(","):
        if len(key) == 1:
            codes += key.encode()
        elif key.startswith("ctrl-") and len(key) == 6 and key[5] in _CTRL:
            codes.append(_CTRL.index(key[5]))
        else:
            raise InvalidArgument(f"Invalid detach keys ({text}) provided")
    return bytes(codes)


class DetachKeys:
    """Watch typed input for the detach sequence; `feed` says what to pass on."""

    __slots__ = ("held", "keys")

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = 0  # how many keys of the sequence have been typed (and held back)

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """The bytes to send to the container, and True once the whole sequence was typed."""
        out = bytearray()
        for byte in data:
            if byte == self.keys[self.held]:
                self.held += 1
                if self.held == len(self.keys):
                    self.held = 0
                    return bytes(out), True
                continue
            out += self.keys[: self.held]  # a broken sequence was typing after all
            self.held = 0
            if byte == self.keys[0]:
                self.held = 1
            else:
                out.append(byte)
        return bytes(out), False


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


def relay(
    sock: int,
    reader: FrameReader,
    stdin_fd: int | None = None,
    detach: DetachKeys | None = None,
) -> bool:
    """Copy the monitor's output to ``reader`` (and ``stdin_fd`` to it) until it closes.

    True when the user typed the ``detach`` keys (the container runs on)."""
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
                    return False
                reader.feed(data)
            elif events:
                try:
                    data = posix.read(fd, 65536)
                except OSError:
                    data = b""
                if data and detach is not None:
                    data, detached = detach.feed(data)
                    if detached:
                        write_all(sock, data)
                        return True
                    if not data:
                        continue
                if data:
                    write_all(sock, data)
                else:
                    watching = [w for w in watching if w[0] != fd]
                    _half_close(sock)


def read_frames(sock: int, raw: bool) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) as the monitor sends them, until it closes (1 is stdout, 2 stderr;
    a terminal's output is all stream 1)."""
    ready: list[tuple[int, bytes]] = []
    reader = FrameReader(
        lambda data: ready.append((STDOUT, data)), lambda data: ready.append((STDERR, data)), raw
    )
    while True:
        try:
            data = posix.read(sock, 65536)
        except ConnectionResetError:
            data = b""
        if not data:
            return
        reader.feed(data)
        yield from ready
        ready.clear()


def half_close(sock: int) -> None:
    """End our input (the monitor closes the process's stdin with --stdin-once)."""
    _half_close(sock)


def send_ctl(path: str, line: str) -> bool:
    """One command to a monitor's control FIFO; False when no monitor reads it."""
    try:
        fd = posix.open(path, posix.O_WRONLY | posix.O_NONBLOCK | posix.O_CLOEXEC)
    except OSError:  # ENXIO: nobody reads; ENOENT: the monitor is gone
        return False
    try:
        posix.write(fd, (line + "\n").encode())
    except OSError:
        return False
    finally:
        posix.close(fd)
    return True


def _half_close(sock: int) -> None:
    import _socket

    s = _socket.socket(fileno=posix.dup(sock))
    try:
        s.shutdown(_socket.SHUT_WR)
    except OSError:
        pass
    finally:
        s.close()


class Foreground:
    """What a foreground run is attached to.

    ``on_attached`` runs once the monitor is connected, before the container
    starts (a terminal is sized and made raw there), ``on_ended`` as soon as
    the relay ends, however it ends (the terminal is restored there);
    ``detach_keys`` (with a terminal) end the attachment and leave the
    container running, which sets ``detached``.
    """

    def __init__(
        self,
        out: Writer,
        err: Writer,
        stdin_fd: int | None = None,
        detach_keys: bytes = b"",
        on_attached: Callable[[ContainerRecord], None] | None = None,
        on_ended: Callable[[], None] | None = None,
    ) -> None:
        self.out = out
        self.err = err
        self.stdin_fd = stdin_fd
        self.detach_keys = detach_keys
        self.on_attached = on_attached
        self.on_ended = on_ended
        self.detached = False
        self.sock = -1
        self.rec: ContainerRecord | None = None

    def ended(self) -> None:
        if self.on_ended is not None:
            self.on_ended()
