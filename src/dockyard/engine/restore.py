"""``system restore``: what Docker's daemon does for containers when it starts, run at boot.

After a reboot (or anything that killed the monitors: an OOM kill of the
whole session, a ``kill -9`` of everything) the records still say
``running``, but nothing runs and the run root is empty. For each
container, under its lock, as moby's ``daemon.restore`` does:

- one whose monitor and runtime state are gone while its record says
  running, paused or restarting is marked exited with status 255 (its exit
  was never seen), and its leftovers (runtime state, network, rootfs mount)
  are released;
- then every container that was started before is brought back when its
  restart policy says so (Docker's ShouldRestart): ``always`` (even after
  a manual stop), ``unless-stopped`` unless a user stopped it,
  ``on-failure`` when it failed and its retries are not used up. Such a
  start is a fresh one (``RestartCount`` 0), as the daemon's is;
- a ``--rm`` container that ended this way is removed.

Containers that still run (their monitor alive) are left alone, so running
it twice is harmless for them; but, like a daemon restart, every run starts
again the stopped ``always`` containers: run it once per boot.
"""

from __future__ import annotations

from dockyard.engine import restart_policy
from dockyard.engine.exits import ExitInfo, alive, cleanup
from dockyard.engine.record import field, record
from dockyard.engine.status import Status
from dockyard.errors import DockyardError, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

LOST_EXIT_CODE = 255  # Docker's status for a container whose end nobody saw


@record
class Restored:
    """What restore did, container by container: (name, what) pairs."""

    exited: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def restore(engine: Engine) -> Restored:
    report = Restored()
    for rec in engine.containers.all():
        try:
            _restore_one(engine, rec.id, report)
        except NotFound:
            continue  # removed meanwhile
        except DockyardError as exc:
            report.failed.append((rec.name, str(exc)))
    return report


def _restore_one(engine: Engine, container_id: str, report: Restored) -> None:
    from dockyard.engine.lifecycle import _start_locked

    with engine.lock(container_id):
        rec = engine.containers.get(container_id)
        if rec.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING):
            if _still_held(engine, rec):
                return
            _mark_lost(engine, rec)
            report.exited.append(rec.name)
            try:
                rec = engine.containers.get(container_id)
            except NotFound:
                report.removed.append(rec.name)  # --rm: its cleanup removed it
                return
        if rec.status != Status.EXITED:
            return  # created, being removed, dead: not the restore's business
        if rec.state.started_at and _should_restart(rec):
            try:
                _start_locked(engine, rec, None, manual=True)
            except DockyardError as exc:
                report.failed.append((rec.name, str(exc)))
                return
            report.started.append(rec.name)
        elif rec.host.auto_remove:
            from dockyard.engine.remove import remove_everything

            remove_everything(engine, rec, volumes=True)
            report.removed.append(rec.name)


def _still_held(engine: Engine, rec: ContainerRecord) -> bool:
    """Something of this run is alive: its monitor, its restart timer, or its process."""
    if rec.status == Status.RESTARTING:
        from dockyard.engine.restart import waiter_alive

        return waiter_alive(rec)
    if _is_monitor(rec.state.monitor_pid, rec.id):
        return True
    state = engine.runtime_for(rec.host.runtime).state(rec.id)
    return state is not None and state.status in ("running", "paused", "created")


def _is_monitor(pid: int, container_id: str) -> bool:
    """``pid`` lives and is this container's monitor (after a reboot the number may be
    anyone's)."""
    if not alive(pid):
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return container_id.encode() in f.read()
    except OSError:
        return False


def _mark_lost(engine: Engine, rec: ContainerRecord) -> None:
    """Exited with 255 now, its leftovers released; no policy restart from here (the
    restore decides that itself, without the backoff)."""
    from dockyard.engine.clock import rfc3339_now

    if rec.status == Status.RESTARTING:
        from dockyard.engine.restart import cancel

        cancel(engine, rec)  # keeps the exit code of the run that ended
        engine.containers.update(rec)
        return
    rec.state.restart_canceled = True
    cleanup(engine, rec, ExitInfo(exit_code=LOST_EXIT_CODE, finished_at=rfc3339_now()))


def _should_restart(rec: ContainerRecord) -> bool:
    """Docker's ShouldRestart as the daemon asks it at start-up."""
    again, _ = restart_policy.decide(
        rec.host.restart_policy,
        rec.state.exit_code,
        rec.state.manually_stopped,
        rec.state.restart_count,
        ran_ns=0,
        previous_delay_ms=0,
    )
    return again
