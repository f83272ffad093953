"""``attach``: join a running container's stdio, as many clients at once as like.

Each attach is one more client of the container's monitor: it gets all the
output from the moment it connects and, unless ``--no-stdin``, its input
goes to the container (with ``-i`` at create). It ends when the container
ends (its exit status is the answer) or when the detach keys are typed on
a terminal (the container runs on). No lock is held: attaching is reading,
and the monitor's exit command cleans up as always.
"""

from __future__ import annotations

import posix

from dockyard.engine.attach import DetachKeys, FrameReader, relay
from dockyard.engine.exits import current_status
from dockyard.engine.status import Status
from dockyard.errors import Conflict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.attach import Foreground
    from dockyard.engine.engine import Engine


def attach(engine: Engine, name: str, fg: Foreground) -> int | None:
    """Relay until the container ends (its exit status) or the user detaches (None)."""
    from dockyard.engine.exits import connect_attach
    from dockyard.engine.lifecycle import wait

    rec = engine.containers.find(name)
    status = current_status(engine, rec)
    if status == Status.PAUSED:
        raise Conflict("cannot attach to a paused container, unpause it first")
    if status == Status.RESTARTING:
        raise Conflict("cannot attach to a restarting container, wait until it is running")
    if status != Status.RUNNING:
        raise Conflict("cannot attach to a stopped container, start it first")
    sock = connect_attach(engine, rec.id)
    if sock is None:  # it ended between the two looks
        raise Conflict("cannot attach to a stopped container, start it first")
    fg.rec = rec
    from dockyard.engine.events import container_event

    container_event(engine, rec, "attach")
    try:
        if fg.on_attached is not None:
            fg.on_attached(rec)
        reader = FrameReader(fg.out, fg.err, raw=rec.config.tty)
        keys = DetachKeys(fg.detach_keys) if fg.detach_keys and rec.config.tty else None
        stdin = fg.stdin_fd if rec.config.open_stdin else None
        fg.detached = relay(sock, reader, stdin, keys)
    finally:
        posix.close(sock)
        fg.ended()
    if fg.detached:
        return None
    return wait(engine, rec.id)
