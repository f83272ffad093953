"""inotify(7): a descriptor that becomes readable when a watched directory changes.

The engine's event log uses it so that ``dockyard events`` learns of an
event another process wrote the moment its write lands, without polling.
"""

from __future__ import annotations

import posix

from dockyard.linux.libc import _check, _function, _Int, _UInt, poll

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_init1 = _function("inotify_init1")
_add_watch = _function("inotify_add_watch")


class Watch:
    """A directory watched for writes, creations and renames into it."""

    __slots__ = ("fd",)

    def __init__(self, directory: str, mask: int = IN_MODIFY | IN_CREATE | IN_MOVED_TO) -> None:
        self.fd = _check(_init1(_Int(IN_NONBLOCK | IN_CLOEXEC)))
        try:
            _check(_add_watch(_Int(self.fd), directory.encode(), _UInt(mask)))
        except OSError as exc:
            posix.close(self.fd)
            raise OSError(exc.errno, exc.strerror, directory) from None

    def wait(self, timeout: float | None, also: int = -1) -> bool:
        """Block until something changed (True) or ``timeout`` seconds passed (False),
        or descriptor ``also`` became readable (a wake-up of the caller's own).
        The queued notifications are read and dropped: the caller looks for itself."""
        fds = [(self.fd, 1)] + ([(also, 1)] if also >= 0 else [])
        if not poll(fds, timeout):
            return False
        try:
            while posix.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        if self.fd >= 0:
            posix.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
