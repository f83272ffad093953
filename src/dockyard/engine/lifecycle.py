"""start, stop, kill, restart, wait: a container's life after ``create``.

Each verb takes the container lock, reads the record afresh, checks the
status (`status.require`), acts through the runtime and the monitor, and
writes the record back. Statuses are settled against the monitor's exit
file first, so a container that ended on its own is seen as exited.
"""

from __future__ import annotations

from dockyard.engine import status as machine
from dockyard.engine.events import container_event
from dockyard.engine.exits import ExitInfo, cleanup, current_status, read_exit, wait_exit
from dockyard.engine.status import Status
from dockyard.errors import Conflict, HostError, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.engine import Engine
    from dockyard.engine.launch import Sync
    from dockyard.engine.runtime_client import BinaryRuntime, LibraryRuntime
    from dockyard.engine.types import ContainerRecord

DEFAULT_STOP_TIMEOUT = 10


def start_exit_code(message: str) -> int:
    """The status Docker gives a container (and ``run``) whose process could not start."""
    if (
        "executable file not found" in message
        or "no such file or directory" in message.lower()
        or "no such file or executable" in message
    ):
        return 127
    if "permission denied" in message.lower() or "is a directory" in message.lower():
        return 126
    return 128


def settle(engine: Engine, rec: ContainerRecord) -> ContainerRecord:
    """Handle an exit nobody has handled yet (its monitor's cleanup did not run or died)."""
    if current_status(engine, rec) == rec.status:
        return rec
    lock = engine.lock(rec.id)
    if not lock.acquire(wait=False):
        return rec  # someone is at it right now
    try:
        return cleanup(engine, engine.containers.get(rec.id))
    finally:
        lock.release()


def start(
    engine: Engine,
    name: str,
    before_start: Callable[[ContainerRecord], None] | None = None,
) -> ContainerRecord:
    """Start a created or exited container; ``before_start`` runs once its monitor listens."""
    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        rec = cleanup(engine, rec) if current_status(engine, rec) != rec.status else rec
        if rec.status in (Status.RUNNING, Status.RESTARTING):
            return rec  # Docker: starting a running container is not an error
        if rec.status == Status.PAUSED:
            raise Conflict(f"cannot start a paused container {rec.name}, try unpause instead")
        machine.require("start", rec.name, rec.status)
        return _start_locked(engine, rec, before_start)


def start_created(
    engine: Engine, rec: ContainerRecord, meanwhile: Callable[[], None]
) -> ContainerRecord:
    """Start the container `create` has just made, its lock still held: nothing of an
    earlier run to look for. ``meanwhile`` runs while the runtime creates it (the
    create's events: off the run's critical path), also if the start fails."""
    return _start_locked(engine, rec, None, fresh=True, meanwhile=meanwhile)


def _start_locked(
    engine: Engine,
    rec: ContainerRecord,
    before_start: Callable[[ContainerRecord], None] | None,
    manual: bool = True,
    fresh: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> ContainerRecord:
    """Start ``rec`` (the caller holds its lock); ``manual`` False for a policy's restart,
    ``fresh`` for a container just created (see `start_created`)."""
    from dockyard.engine.clock import rfc3339_now
    from dockyard.engine.launch import launch, monitor_pid

    alongside = Alongside(engine, rec, meanwhile)
    sync: Sync | None = None
    try:
        if manual:
            from dockyard.engine.restart import reset_for_manual_start

            reset_for_manual_start(rec)
        runtime = engine.runtime_for(rec.host.runtime)
        if not fresh:
            _leftovers_of_earlier_runs(engine, rec, runtime)
    except BaseException:
        alongside.meanwhile()  # the start failed: its own error is told
        raise
    try:
        from dockyard.engine import net_attach

        netns_file = net_attach.prepare(engine, rec)
        from dockyard.engine import ipc

        ipc.mount_shm(engine.paths, rec)  # shareable: a /dev/shm others can join
        ipc.join(engine, rec)  # container:X: X's namespace and /dev/shm, as of now
        # a namespace the runtime makes is wired while the init mounts, before any
        # process of it runs
        # the monitor execs while the runtime starts it, unless someone attaches first
        launched = launch(
            engine,
            rec,
            runtime,
            netns_file,
            alongside.wire if netns_file else None,
            alongside.meanwhile,
            early=before_start is None,
        )
        sync = launched.sync
        rec.state.pid = launched.pid
        rec.state.monitor_pid = launched.monitor_pid or monitor_pid(engine, rec.id)
        alongside.finish(launched.pid if netns_file else 0)
        if before_start is not None:
            before_start(rec)
        runtime.start(rec.id)
        sync.confirm()
    except BaseException as exc:
        if sync is not None:
            sync.close()
        alongside.meanwhile()  # the start failed: its own error is told
        _start_failed(engine, rec, exc)
        raise
    rec.status = Status.RUNNING
    rec.state.started_at = rfc3339_now()
    rec.state.finished_at = ""
    rec.state.exit_code = 0
    rec.state.error = ""
    rec.state.oom_killed = False
    engine.containers.update(rec)
    from dockyard.engine.events import network_endpoints_event

    network_endpoints_event(engine, rec, "connect")
    container_event(engine, rec, "start")
    return rec


def _leftovers_of_earlier_runs(
    engine: Engine, rec: ContainerRecord, runtime: LibraryRuntime | BinaryRuntime
) -> None:
    """What a start killed half-way may have left: no bundle, a monitor, a runtime state."""
    from dockyard.engine import bundle

    rootfs = bundle.mount_rootfs(engine.images, rec)
    try:
        import posix

        posix.stat(f"{engine.paths.container_dir(rec.id)}/config.json")
    except FileNotFoundError:
        from dockyard.engine.net_etc import etc_inputs

        # a create killed before it wrote it
        bundle.write_bundle(engine.paths, rec, rootfs, etc_inputs(engine, rec))
    _retire_stale_monitor(engine, rec.id)
    if runtime.state(rec.id) is not None:
        runtime.delete(rec.id, force=True)  # left by a start that was killed (half-way)


class Alongside:
    """What a start does while the runtime creates the container, each error held
    until the runtime's own outcome is known (`finish` raises it then):

    - ``meanwhile``: the caller's work (a new container's events), run by `launch`
      once the process that creates the container is off, else by `finish` (or by
      the start's failure);
    - `wire`: `net_attach.setup` once the init exists, called by `launch` as soon as
      that process says so (while the init mounts), else by `finish`."""

    __slots__ = ("engine", "error", "pending", "rec", "wired")

    def __init__(
        self, engine: Engine, rec: ContainerRecord, meanwhile: Callable[[], None] | None
    ) -> None:
        self.engine = engine
        self.rec = rec
        self.pending = meanwhile
        self.wired = False
        self.error: BaseException | None = None

    def meanwhile(self) -> None:
        work, self.pending = self.pending, None
        if work is not None:
            try:
                work()
            except Exception as exc:
                self.error = self.error or exc

    def wire(self, pid: int) -> None:
        from dockyard.engine.net_attach import setup

        self.wired = True
        try:
            setup(self.engine, self.rec, pid)
        except Exception as exc:
            self.error = self.error or exc

    def finish(self, pid: int) -> None:
        """``pid``: the init, to wire its namespace if that has not been done (0: none
        to wire)."""
        self.meanwhile()
        if pid and not self.wired:
            self.wire(pid)
        if self.error is not None:
            raise self.error


def _retire_stale_monitor(engine: Engine, container_id: str) -> None:
    """A monitor left by a start whose CLI was killed after the create: it must not
    write an exit file (or run its cleanup) into the run this start begins."""
    import posix
    import time

    from dockyard.engine.exits import alive
    from dockyard.engine.launch import monitor_pid

    stale = monitor_pid(engine, container_id)
    if not alive(stale):
        return
    try:
        # with its group: a runtime binary's create it may still be waiting for (a
        # create left running would finish after ours began: "already exists")
        if posix.getpgid(stale) == stale:
            posix.killpg(stale, 9)
        else:
            posix.kill(stale, 9)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while alive(stale) and time.monotonic() < deadline:
        time.sleep(0.01)


def _start_failed(engine: Engine, rec: ContainerRecord, exc: BaseException) -> None:
    """Undo a start that did not get the container running; the record keeps the error."""
    from dockyard.engine.bundle import unmount_rootfs
    from dockyard.engine.exits import remove_run_dir

    runtime = engine.runtime_for(rec.host.runtime)
    try:
        runtime.delete(rec.id, force=True)
    except Exception:
        pass
    if rec.state.monitor_pid:
        wait_exit(engine, rec, 5.0)  # the monitor writes its exit file, then cleans up
    from dockyard.engine.net_attach import teardown

    try:
        teardown(engine, rec)
    except Exception:
        pass  # the start's own error is the one to report; rm and system check retry
    unmount_rootfs(engine.images, rec.id)
    from dockyard.engine.ipc import unmount_shm

    unmount_shm(engine.paths, rec.id)
    remove_run_dir(engine, rec.id)
    message = str(exc) or type(exc).__name__
    rec.state.error = message
    rec.state.exit_code = start_exit_code(message)
    rec.state.pid = 0
    rec.state.monitor_pid = 0
    try:
        engine.containers.update(rec)
    except NotFound:
        pass


def stop(engine: Engine, name: str, timeout: int | None = None, signal: str = "") -> str:
    """The stop signal, then SIGKILL after ``timeout`` seconds (the container's own, else 10)."""
    from dockyard.runtime.signals import parse_signal

    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        if rec.status == Status.RESTARTING:
            _cancel_restart(engine, rec, manually_stopped=True)
            return rec.id
        stopping = rec.status in (Status.RUNNING, Status.PAUSED)
        status = current_status(engine, rec)  # (rec.state may be read afresh)
        if stopping:
            # Docker's stop: no restart after this exit (also one that came just
            # now, not handled yet), and unless-stopped remembers it
            rec.state.manually_stopped = True
            rec.state.restart_canceled = True
        if status not in (Status.RUNNING, Status.PAUSED):
            cleanup(engine, rec)
            return rec.id
        if timeout is None:
            timeout = rec.config.stop_timeout
        if timeout is None:
            timeout = DEFAULT_STOP_TIMEOUT
        sig = parse_signal(signal or rec.config.stop_signal or "SIGTERM")
        runtime = engine.runtime_for(rec.host.runtime)
        info: ExitInfo | None = None
        if rec.status == Status.PAUSED:
            from dockyard.engine.pause import thaw

            thaw(engine, rec)
        if timeout != 0:
            _signal(runtime, rec.id, sig)
            container_event(engine, rec, "kill", {"signal": str(sig)})
            info = wait_exit(engine, rec, None if timeout < 0 else float(timeout))
        if info is None:
            _signal(runtime, rec.id, 9, all_processes=True)
            container_event(engine, rec, "kill", {"signal": "9"})
            info = wait_exit(engine, rec, 30.0)
            if info is None:
                raise HostError(f"container {rec.name} did not exit after SIGKILL")
        cleanup(engine, rec, info)
        container_event(engine, rec, "stop")
        return rec.id


def _cancel_restart(engine: Engine, rec: ContainerRecord, manually_stopped: bool) -> None:
    """A restarting container's pending restart dropped: it is exited from now on."""
    from dockyard.engine.restart import cancel

    cancel(engine, rec)
    rec.state.manually_stopped = rec.state.manually_stopped or manually_stopped
    engine.containers.update(rec)


def _signal(runtime: object, container_id: str, sig: int, all_processes: bool = False) -> None:
    try:
        runtime.kill(container_id, sig, all_processes)  # type: ignore[attr-defined]
    except (Conflict, NotFound, HostError):
        pass  # exited meanwhile: the exit file says how


def kill(engine: Engine, name: str, signal: str = "KILL") -> str:
    from dockyard.runtime.signals import parse_signal

    signame = signal.upper()
    try:
        sig = parse_signal(
            signame if signame.startswith("SIG") or signame.isdigit() else f"SIG{signame}"
        )
    except Exception:
        sig = 0
    if sig <= 0:
        raise InvalidArgument(f"Invalid signal: {signal}")
    try:
        return _kill(engine, name, sig)
    except (Conflict, NotFound) as exc:  # Docker's daemon says so of every kill it refuses
        raise type(exc)(f"Cannot kill container: {name}: {exc}") from None


def _kill(engine: Engine, name: str, sig: int) -> str:
    from dockyard.runtime.signals import parse_signal

    rec = engine.containers.find(name)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        status = current_status(engine, rec)
        machine.require("kill", rec.id, status)
        if status == Status.RESTARTING:
            _cancel_restart(engine, rec, manually_stopped=False)  # Docker's ExitOnNext
            return rec.id
        if sig == 9 or sig == parse_signal(rec.config.stop_signal or "SIGTERM"):
            # Docker's ExitOnNext: this exit is not followed by a restart
            rec.state.restart_canceled = True
            engine.containers.update(rec)
        try:
            engine.runtime_for(rec.host.runtime).kill(rec.id, sig)
        except (Conflict, NotFound) as exc:
            raise Conflict(str(exc)) from None
        container_event(engine, rec, "kill", {"signal": str(sig)})
        if status == Status.PAUSED:
            from dockyard.engine.pause import thaw

            thaw(engine, rec)  # Docker's order: the signal is taken once it runs again
            rec.status = Status.RUNNING
            engine.containers.update(rec)
    return rec.id


def restart(engine: Engine, name: str, timeout: int | None = None) -> str:
    found = engine.containers.find(name)
    # one hold of the lock from the stop to the start: no verb comes in between, and
    # `logs -f` (engine/logs.py) knows the container is coming back
    lock = engine.lock(found.id)
    lock.acquire(nested=True)
    try:
        container_id = stop(engine, found.id, timeout)
        rec = start(engine, container_id)
    finally:
        lock.release()
    container_event(engine, rec, "restart")
    return container_id


def wait(engine: Engine, name: str) -> int:
    """Block until the container is not running; its exit code (``docker wait``)."""
    rec = engine.containers.find(name)
    rec = _past_restart(engine, rec)
    # the record's own status: an exit its monitor recorded may not be handled yet
    if rec.status in (Status.RUNNING, Status.PAUSED):
        info = wait_exit(engine, rec)
        if info is not None:
            # as Docker's wait: it returns once the exit is handled (record, die event)
            with engine.lock(rec.id):
                try:
                    cleanup(engine, engine.containers.get(rec.id), info)
                except NotFound:
                    pass  # removed meanwhile (--rm)
            return info.exit_code
    found = read_exit(engine, rec.id)
    if found is not None:
        return found.exit_code
    try:
        return engine.containers.get(rec.id).state.exit_code
    except NotFound:
        return rec.state.exit_code


def _past_restart(engine: Engine, rec: ContainerRecord) -> ContainerRecord:
    """A restarting container is running for ``wait`` (as Docker's): its next exit counts."""
    import time

    from dockyard.engine.restart import waiter_alive

    while rec.status == Status.RESTARTING and waiter_alive(rec):
        time.sleep(0.02)
        try:
            rec = engine.containers.get(rec.id)
        except NotFound:
            break
    return rec
