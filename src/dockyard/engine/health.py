"""A container's health as Docker shows it: State.Health, ps's "(healthy)", --filter health=.

While the container runs, its monitor keeps the state of this run in
``health.json`` in the run directory (status, failing streak, the last
results; docs/monitor.md). The record keeps the state as of the end of the
previous run (`fold`, at the exit's cleanup): Docker keeps the log across
restarts, resets the streak and the status ("starting") at each start, and
calls a container whose checks stopped "unhealthy". Readers merge the two.
"""

from __future__ import annotations

from dockyard.engine.health_config import probe
from dockyard.engine.health_probe import STATE_FILE
from dockyard.engine.types import Health, HealthResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

MAX_LOG = 5
STATUSES = ("starting", "healthy", "unhealthy", "none")


def _live(engine: Engine, rec: ContainerRecord) -> Health | None:
    """The running monitor's state of this run, or None."""
    from dockyard.oci import jsonio

    try:
        with open(f"{engine.paths.run_dir(rec.id)}/{STATE_FILE}", "rb") as f:
            raw = jsonio.loads(f.read())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    log = []
    for entry in raw.get("Log") or []:
        if isinstance(entry, dict):
            log.append(
                HealthResult(
                    start=str(entry.get("Start", "")),
                    end=str(entry.get("End", "")),
                    exit_code=int(entry.get("ExitCode", -1)),
                    output=str(entry.get("Output", "")),
                )
            )
    return Health(str(raw.get("Status") or "starting"), int(raw.get("FailingStreak") or 0), log)


def current(engine: Engine, rec: ContainerRecord, running: bool) -> Health | None:
    """State.Health: None for a container without a check, or never started with one."""
    if probe(rec.config.healthcheck) is None:
        return None
    saved = rec.state.health
    live = _live(engine, rec) if running else None
    if live is None:
        return saved
    earlier = saved.log if saved is not None else []
    return Health(live.status, live.failing_streak, [*earlier, *live.log][-MAX_LOG:])


def fold(engine: Engine, rec: ContainerRecord) -> None:
    """At the exit's cleanup: the run's state into the record, "unhealthy" as Docker
    says of a container whose checks have stopped."""
    health = current(engine, rec, running=True)
    if health is not None:
        health.status = "unhealthy"
        rec.state.health = health


def state_json(health: Health) -> dict[str, Any]:
    return {
        "Status": health.status,
        "FailingStreak": health.failing_streak,
        "Log": [
            {"Start": r.start, "End": r.end, "ExitCode": r.exit_code, "Output": r.output}
            for r in health.log
        ],
    }


def label(health: Health | None) -> str:
    """What ``ps`` adds after "Up 5 minutes": "(healthy)", "(health: starting)"."""
    if health is None:
        return ""
    return " (health: starting)" if health.status == "starting" else f" ({health.status})"


def filter_value(health: Health | None) -> str:
    """The value ``--filter health=`` compares: a status, or "none"."""
    return "none" if health is None else health.status or "unhealthy"


def record_change(engine: Engine, container_id: str, status: str) -> None:
    """The monitor's ``--health-command``: a ``health_status: STATUS`` event, as
    Docker's daemon records each change of a container's health."""
    from dockyard.engine.events import container_event
    from dockyard.errors import NotFound

    if status not in ("starting", "healthy", "unhealthy"):
        return
    try:
        rec = engine.containers.get(container_id)
    except NotFound:
        return  # removed since
    container_event(engine, rec, f"health_status: {status}")


def tell_monitor(engine: Engine, rec: ContainerRecord, line: str) -> None:
    """A command on the monitor's control FIFO (health-pause, health-resume); best effort."""
    import posix

    from dockyard.engine.launch import CTL_FIFO

    if probe(rec.config.healthcheck) is None:
        return
    try:
        fd = posix.open(
            f"{engine.paths.run_dir(rec.id)}/{CTL_FIFO}",
            posix.O_WRONLY | posix.O_NONBLOCK | posix.O_CLOEXEC,
        )
    except OSError:
        return
    try:
        posix.write(fd, line.encode() + b"\n")
    except OSError:
        pass
    finally:
        posix.close(fd)
