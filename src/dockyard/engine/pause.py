"""``pause`` and ``unpause``: freeze a container's processes in place, and thaw them.

The runtime does the work (its ``pause``/``resume``: the cgroup freezer);
the record's status says ``paused`` in between, which ``ps`` shows as
"Up 5 minutes (Paused)" and inspect as ``State.Paused``. A frozen container
cannot act on a signal: ``kill`` and ``stop`` signal it, then thaw it, as
Docker does, so the signal is taken the moment it runs again.
"""

from __future__ import annotations

from dockyard.engine import status as machine
from dockyard.engine.events import container_event
from dockyard.engine.exits import current_status
from dockyard.engine.status import Status
from dockyard.errors import Conflict, HostError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord


def pause(engine: Engine, name: str) -> str:
    """Freeze every process of a running container; its id."""
    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        status = current_status(engine, rec)
        if status == Status.PAUSED:
            raise Conflict(f"Container {rec.id} is already paused")
        if status == Status.RESTARTING:
            raise Conflict(f"container {rec.id} is restarting, wait until the container is running")
        machine.require("pause", rec.id, status)
        _act(engine, rec, "pause")
        if rec.config.healthcheck is not None:
            from dockyard.engine.health import tell_monitor

            tell_monitor(engine, rec, "health-pause")  # Docker stops the checks meanwhile
        rec.status = Status.PAUSED
        engine.containers.update(rec)
        container_event(engine, rec, "pause")
    return rec.id


def unpause(engine: Engine, name: str) -> str:
    """Thaw a paused container; its id."""
    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        if current_status(engine, rec) != Status.PAUSED:
            raise Conflict(f"Container {rec.id} is not paused")
        _act(engine, rec, "resume")
        if rec.config.healthcheck is not None:
            from dockyard.engine.health import tell_monitor

            tell_monitor(engine, rec, "health-resume")
        rec.status = Status.RUNNING
        engine.containers.update(rec)
        container_event(engine, rec, "unpause")
    return rec.id


def thaw(engine: Engine, rec: ContainerRecord) -> None:
    """Resume a paused container so a signal sent to it takes effect; no error if it is not."""
    try:
        engine.runtime_for(rec.host.runtime).resume(rec.id)
    except (Conflict, NotFound, HostError):
        pass


def _act(engine: Engine, rec: ContainerRecord, verb: str) -> None:
    runtime = engine.runtime_for(rec.host.runtime)
    try:
        getattr(runtime, verb)(rec.id)
    except (Conflict, NotFound) as exc:
        raise Conflict(f"cannot {verb} container {rec.id}: {exc}") from exc
