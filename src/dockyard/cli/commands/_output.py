"""Where ``-o FILE`` writes (save, export): checked first, replaced whole, never half-written.

A regular file (or a new one) is written beside itself under a temporary
name and renamed over the target at the end, so a failure leaves the old
file as it was and no temporary behind. A FIFO is written into, as a
shell's ``>`` would: renaming over it would replace the FIFO. Devices,
sockets and directories are refused before any work, as Docker's CLI
refuses them (``save -o /dev/null`` must not replace the system's
/dev/null with an image).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO

from dockyard.errors import HostError, InvalidArgument, NoSpace

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


def _refusal(path: str, mode: int) -> str | None:
    if stat.S_ISDIR(mode):
        return "is a directory; give a file name inside it"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device; give a regular file (or redirect stdout)"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return None


def check_output(path: str) -> str:
    """The file ``-o path`` will write (symlinks resolved); raises if it cannot be one."""
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            raise InvalidArgument(
                f"invalid output path: directory {os.path.dirname(path) or '.'!r} does not exist"
            ) from None
        return target
    except OSError as exc:
        raise InvalidArgument(f"invalid output path {path!r}: {exc.strerror}") from exc
    problem = _refusal(target, st.st_mode)
    if problem:
        raise InvalidArgument(f"invalid output path: {path!r} {problem}")
    return target


@contextmanager
def output_file(path: str) -> Iterator[BinaryIO]:
    """An open file for ``-o path``: committed when the block ends, removed if it raises."""
    target = check_output(path)
    if stat.S_ISFIFO(_mode(target)):
        with _writing(path):
            fd = os.open(target, os.O_WRONLY | os.O_CLOEXEC)
        with io.BufferedWriter(_Raw(fd, path), 1 << 20) as fifo:
            yield fifo
        return
    directory, name = os.path.split(target)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.tmp")
    with _writing(path):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        with io.BufferedWriter(_Raw(fd, path), 1 << 20) as out:
            yield out
        with _writing(path):
            os.replace(tmp, target)
    except BaseException:  # SIGTERM (cli.docker_main.Terminated) included
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _mode(path: str) -> int:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return 0


class _Raw(io.RawIOBase):
    """A descriptor whose write errors name the output (and nothing else's errors do)."""

    def __init__(self, fd: int, path: str) -> None:
        super().__init__()
        self._fd = fd
        self._path = path

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        with _writing(self._path):
            return os.write(self._fd, data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


@contextmanager
def _writing(path: str) -> Iterator[None]:
    """The host's complaint about the output file as one line that names it."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise  # the reader went away: the CLI exits quietly, as with stdout
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpace(f"writing {path}: no space left on device") from exc
        raise HostError(f"cannot write {path}: {exc.strerror or exc}") from exc
