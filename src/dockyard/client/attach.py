"""``Container.attach``: docker-py's answer, as another client of the container's monitor.

Without ``stream`` it blocks until the container ends and returns what it
wrote meanwhile (bytes, or with ``demux`` a (stdout, stderr) tuple, each
None when the stream said nothing); ``stream`` gives the pieces as they
come. ``logs`` puts what the container wrote before (its json-file log)
first; a stopped container gives its logs, or nothing.
"""

from __future__ import annotations

from dockyard import errors as engine_errors
from dockyard.client.errors import translate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from dockyard.engine.engine import Engine


def attach(
    engine: Engine,
    container_id: str,
    stdout: bool = True,
    stderr: bool = True,
    stream: bool = False,
    logs: bool = False,
    demux: bool = False,
) -> Any:
    from dockyard.engine.attach import STDERR, read_frames
    from dockyard.engine.exits import connect_attach, current_status
    from dockyard.engine.status import Status

    try:
        rec = engine.containers.find(container_id)
        running = current_status(engine, rec) == Status.RUNNING
        # connected before the log is read: a gap would lose output, an overlap repeats it
        sock = connect_attach(engine, rec.id) if running else None
        earlier = _logged(engine, rec) if logs else []
    except engine_errors.DockyardError as exc:
        raise translate(exc) from exc

    def frames() -> Iterator[tuple[int, bytes]]:
        yield from earlier
        if sock is not None:
            import posix

            try:
                yield from read_frames(sock, rec.config.tty)
            finally:
                posix.close(sock)

    wanted = ((n, d) for n, d in frames() if (stderr if n == STDERR else stdout))
    return shaped(wanted, stream, demux)


def shaped(frames: Iterator[tuple[int, bytes]], stream: bool, demux: bool) -> Any:
    """docker-py's output: with ``stream`` a generator of pieces, else all of it gathered;
    bytes as they came, or with ``demux`` (stdout, stderr) (None for a silent stream)."""
    from dockyard.engine.attach import STDERR

    if stream:
        if demux:
            return ((None, d) if n == STDERR else (d, None) for n, d in frames)
        return (d for _, d in frames)
    out, err, both = bytearray(), bytearray(), bytearray()
    for n, data in frames:
        (err if n == STDERR else out).extend(data)
        both.extend(data)
    return (bytes(out) or None, bytes(err) or None) if demux else bytes(both)


def _logged(engine: Engine, rec: Any) -> list[tuple[int, bytes]]:
    from dockyard.engine import logs
    from dockyard.engine.attach import STDERR, STDOUT

    found: list[tuple[int, bytes]] = []

    def emit(entry: logs.LogEntry) -> None:
        found.append((STDERR if entry.stream == "stderr" else STDOUT, entry.text))

    if rec.host.log_config.type != "none":
        logs.read(engine, rec, emit)
    return found
