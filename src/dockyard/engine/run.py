"""``run``: create, start, and (in the foreground) stay attached until the container ends.

A foreground run connects to the monitor's attach socket before ``start``,
so no output is lost, and relays it (stdout and stderr apart, without a
terminal). It holds ``fg.lock`` in the container's run directory while
attached: the monitor's exit command sees it and leaves the cleanup to
this process, which does it the moment the output ends, with ``--rm``
removing everything. If this process dies, the lock goes with it and the
exit command cleans up instead.
"""

from __future__ import annotations

import posix

from dockyard.engine.attach import DetachKeys, Foreground, FrameReader, relay
from dockyard.engine.create import CreateRequest, create
from dockyard.engine.exits import cleanup, read_exit, remove_run_dir, wait_exit
from dockyard.engine.launch import FOREGROUND_LOCK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord


def run_detached(
    engine: Engine, req: CreateRequest, progress: TextIO, binds_from_v: set[str] | None = None
) -> ContainerRecord:
    return create(engine, req, progress, binds_from_v, start=True)


def _remove(engine: Engine, container_id: str) -> None:
    from dockyard.engine.remove import remove_everything

    with engine.lock(container_id):
        try:
            rec = engine.containers.get(container_id)
        except Exception:
            return
        remove_everything(engine, rec, volumes=True)


def run_attached(
    engine: Engine,
    req: CreateRequest,
    progress: TextIO,
    fg: Foreground,
    on_started: Callable[[ContainerRecord], None] | None = None,
    binds_from_v: set[str] | None = None,
) -> int:
    """Run ``req`` in the foreground; the container's exit status (0 once detached)."""
    req.attach = True
    rec = create(engine, req, progress, binds_from_v)
    return start_attached(engine, rec, fg, on_started, remove_on_failure=True)


def start_attached(
    engine: Engine,
    rec: ContainerRecord,
    fg: Foreground,
    on_started: Callable[[ContainerRecord], None] | None = None,
    remove_on_failure: bool = False,
) -> int:
    """Start ``rec`` (or join it, running already) attached; its exit status (0 once detached)."""
    from dockyard.engine.bundle import make_dir
    from dockyard.engine.lifecycle import start
    from dockyard.engine.locks import ContainerLock

    fg.rec = rec
    run = engine.paths.run_dir(rec.id)
    make_dir(run, 0o700)
    # Held while attached: the monitor's exit command then leaves the cleanup to us.
    # Someone else holding it (another start -a) cleans up instead.
    held = ContainerLock(f"{run}/{FOREGROUND_LOCK}")
    held.acquire(wait=False)

    def attach(started: ContainerRecord) -> None:
        from dockyard.engine.events import container_event

        fg.sock = _connect(engine, started)
        container_event(engine, started, "attach")
        if fg.on_attached is not None:
            fg.on_attached(started)

    try:
        try:
            rec = start(engine, rec.id, before_start=attach)
        except BaseException:
            if remove_on_failure and rec.host.auto_remove:
                _remove(engine, rec.id)
            raise
        fg.rec = rec
        if fg.sock < 0:  # it was running already: start did not start it
            attach(rec)
        if on_started is not None:
            on_started(rec)
        reader = FrameReader(fg.out, fg.err, raw=rec.config.tty)
        keys = DetachKeys(fg.detach_keys) if fg.detach_keys and rec.config.tty else None
        try:
            stdin = fg.stdin_fd if rec.config.open_stdin else None
            fg.detached = relay(fg.sock, reader, stdin, keys)
        finally:
            posix.close(fg.sock)
            fg.sock = -1
            fg.ended()
        if fg.detached:
            return 0
        info = read_exit(engine, rec.id) or wait_exit(engine, rec, 30.0)
        with engine.lock(rec.id):
            try:
                current = engine.containers.get(rec.id)
            except Exception:
                current = None
            if current is not None:
                cleanup(engine, current, info)
        return info.exit_code if info is not None else 255
    finally:
        held.release(remove=True)
        if _gone(engine, rec.id):
            remove_run_dir(engine, rec.id)


def _connect(engine: Engine, rec: ContainerRecord) -> int:
    from dockyard.engine.exits import connect_attach

    sock = connect_attach(engine, rec.id)
    if sock is None:
        from dockyard.errors import HostError

        raise HostError(f"cannot attach to container {rec.id[:12]}: its monitor is not listening")
    return sock


def _gone(engine: Engine, container_id: str) -> bool:
    """True once nothing of the run is left to hold: the record exited or was removed."""
    from dockyard.engine.status import Status

    try:
        status = engine.containers.get(container_id).status
        return status not in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
    except Exception:
        return True
