"""``events``: the log's past events, then new ones as other processes record them.

As Docker's daemon answers: with neither ``since`` nor ``until`` only new
events come; with either, the recorded events in that window come first;
an ``until`` in the past ends the stream after them, one in the future when
it is reached. New events are read by sequence number, never by time, so a
follower misses none and sees none twice (a ``die`` is stamped with the
moment the container ended, which can be earlier than the event before it).
"""

from __future__ import annotations

import posix
import time

from dockyard.engine import event_filter
from dockyard.engine.logs import parse_since
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from dockyard.engine.engine import Engine
    from dockyard.engine.events import Event

RECHECK = 2.0  # seconds between looks at the log when no wake-up came (inotify unavailable)


def window(since: str, until: str, now_ns: int | None = None) -> tuple[int, int]:
    """(since, until) in nanoseconds, 0 for unset; refused when since is after until."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    since_ns = parse_since(since, now_ns)
    until_ns = parse_since(until, now_ns)
    if since_ns and until_ns and until_ns < since_ns:
        raise InvalidArgument(f"`since` time ({since}) cannot be after `until` time ({until})")
    return since_ns, until_ns


class Subscription:
    """The events ``docker events --since --until --filter`` shows, in order; with
    ``follow`` new ones until ``until`` or `close`. Subscribed when made: an event
    recorded after that is seen even if iteration starts later."""

    def __init__(
        self,
        engine: Engine,
        since: str = "",
        until: str = "",
        filters: dict[str, list[str]] | None = None,
        follow: bool = True,
    ) -> None:
        now = time.time_ns()
        self.since_ns, self.until_ns = window(since, until, now)
        self.filters = filters or {}
        self.log = engine.events
        self.closed = False
        self._wake = (-1, -1)
        live = follow and not (self.until_ns and self.until_ns <= now)
        # the watch exists before the last sequence number is read: nothing slips between
        self.watch = self.log.watch() if live else None
        if self.watch is not None:
            self._wake = posix.pipe2(posix.O_CLOEXEC | posix.O_NONBLOCK)
        self.last = self.log.last_seq()
        self._events = self._run()
        self._started = False

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> Event:
        self._started = True
        return next(self._events)

    def _run(self) -> Iterator[Event]:
        try:
            if self.since_ns or self.until_ns:
                past = self.log.read(0, self.since_ns, self.until_ns, up_to_seq=self.last)
                for event in past:
                    if event_filter.matches(self.filters, event):
                        yield event
            while self.watch is not None and not self.closed:
                for event in self.log.read(self.last):
                    self.last = event.seq
                    if event_filter.matches(self.filters, event):
                        yield event
                timeout = RECHECK
                if self.until_ns:
                    left = (self.until_ns - time.time_ns()) / 1e9
                    if left <= 0:
                        return
                    timeout = min(timeout, left)
                self.watch.wait(timeout, self._wake[0])
        finally:
            self._release()

    def close(self) -> None:
        """Stop following; safe from another thread while one waits in ``next()``."""
        self.closed = True
        if not self._started:
            self._release()
        elif self._wake[1] >= 0:
            try:
                posix.write(self._wake[1], b"x")
            except OSError:
                pass

    def _release(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None
        for fd in self._wake:
            if fd >= 0:
                posix.close(fd)
        self._wake = (-1, -1)
