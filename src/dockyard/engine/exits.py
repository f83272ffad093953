"""A container's end: the monitor's exit file, waiting for it, and the cleanup after it.

The monitor writes ``exit.json`` once the init has exited and its output is
logged, then closes its attach clients, then runs the exit command
(``dockyard container cleanup ID``). `cleanup` is idempotent and runs under
the container lock, so whoever comes first (the exit command, a foreground
``run``, ``stop``, ``rm -f``, or any later command that finds an exit file
nobody has handled) does it once.
"""

from __future__ import annotations

import errno
import posix
import time

from dockyard.engine.launch import ATTACH_SOCKET, EXIT_FILE, monitor_pid
from dockyard.engine.record import record
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord


@record
class ExitInfo:
    exit_code: int
    signal: int = 0
    oom_killed: bool = False
    finished_at: str = ""
    error: str = ""


def read_exit(engine: Engine, container_id: str) -> ExitInfo | None:
    from dockyard.oci import jsonio

    try:
        with open(f"{engine.paths.run_dir(container_id)}/{EXIT_FILE}", "rb") as f:
            doc = jsonio.loads(f.read())
    except (FileNotFoundError, ValueError):
        return None
    return ExitInfo(
        exit_code=int(doc.get("exitCode", -1)),
        signal=int(doc.get("signal", 0)),
        oom_killed=bool(doc.get("oomKilled", False)),
        finished_at=str(doc.get("finishedAt", "")),
        error=str(doc.get("error", "")),
    )


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"


def connect_attach(engine: Engine, container_id: str) -> int | None:
    """A connected socket to the monitor's attach socket, or None if nobody listens."""
    import _socket

    run = engine.paths.run_dir(container_id)
    try:
        dirfd = posix.open(run, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except OSError:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        # through the directory's descriptor: sun_path holds 108 bytes, run roots can be longer
        sock.connect(f"/proc/self/fd/{dirfd}/{ATTACH_SOCKET}")
    except OSError:
        sock.close()
        return None
    finally:
        posix.close(dirfd)
    return int(sock.detach())


def wait_exit(
    engine: Engine, rec: ContainerRecord, timeout: float | None = None
) -> ExitInfo | None:
    """Block until the container's monitor has written its exit file (None on timeout).

    The attach socket closes right after the exit file is written, so a
    connection that reads to its end is a wakeup without polling; a
    container whose monitor is gone is polled.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    found = read_exit(engine, rec.id)
    if found is not None:
        return found
    sock = connect_attach(engine, rec.id)
    if sock is not None:
        try:
            _drain_until(sock, deadline)
        finally:
            posix.close(sock)
    delay = 0.005
    while True:
        found = read_exit(engine, rec.id)
        if found is not None:
            return found
        if not alive(rec.state.monitor_pid or monitor_pid(engine, rec.id)):
            found = read_exit(engine, rec.id)
            if found is None and not _runtime_running(engine, rec):
                return ExitInfo(exit_code=255, error="the container's monitor is gone")
            if found is not None:
                return found
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _runtime_running(engine: Engine, rec: ContainerRecord) -> bool:
    state = engine.runtime_for(rec.host.runtime).state(rec.id)
    return state is not None and state.status in ("running", "paused", "created")


def _drain_until(sock: int, deadline: float | None) -> None:
    from dockyard.linux import libc

    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready = libc.poll([(sock, libc.POLLIN)], left)
        if not ready:
            return
        try:
            if not posix.read(sock, 65536):
                return
        except OSError:
            return


def current_status(engine: Engine, rec: ContainerRecord) -> str:
    """The status to show: a running record whose exit file exists has exited.

    A cleanup may finish between our read of the record and of the exit
    file (it updates the record, then removes the file): a running record
    without an exit file is read again, and ``rec`` takes the fresh state.
    """
    if rec.status not in (Status.RUNNING, Status.PAUSED):
        return rec.status
    if read_exit(engine, rec.id) is not None:
        return Status.EXITED
    try:
        fresh = engine.containers.get(rec.id)
    except Exception:
        return Status.REMOVING
    rec.status, rec.state = fresh.status, fresh.state
    return rec.status


def cleanup(
    engine: Engine, rec: ContainerRecord, exit_info: ExitInfo | None = None
) -> ContainerRecord:
    """After the init exited: runtime state, cgroups and rootfs mount released, record updated.

    The caller holds the container lock. Does nothing if there is no exit
    yet (the container runs) or it was done already.
    """
    from dockyard.engine.bundle import unmount_rootfs
    from dockyard.engine.clock import rfc3339_now

    if rec.status not in (Status.RUNNING, Status.PAUSED, Status.CREATED):
        return rec  # restarting: handled, its restart pending (engine/restart.py)
    info = exit_info or read_exit(engine, rec.id)
    if info is None:
        if rec.status == Status.CREATED or alive(rec.state.monitor_pid):
            return rec
        info = ExitInfo(exit_code=255, error="the container's monitor is gone")
    runtime = engine.runtime_for(rec.host.runtime)
    try:
        runtime.delete(rec.id, force=True)
    except Exception as exc:
        info.error = info.error or f"runtime delete: {exc}"
    from dockyard.engine.net_attach import teardown

    try:
        teardown(engine, rec)
    except Exception as exc:
        info.error = info.error or f"network teardown: {exc}"
    unmount_rootfs(engine.images, rec.id)
    from dockyard.engine.ipc import unmount_shm

    unmount_shm(engine.paths, rec.id)
    ran = rec.status != Status.CREATED
    if ran or rec.state.started_at:
        rec.status = Status.EXITED
    rec.state.exit_code = info.exit_code
    rec.state.oom_killed = info.oom_killed
    rec.state.finished_at = info.finished_at or rfc3339_now()
    rec.state.error = info.error
    rec.state.pid = 0
    rec.state.monitor_pid = 0
    if rec.config.healthcheck is not None:
        from dockyard.engine.health import fold

        fold(engine, rec)  # this run's checks, kept in the record: the run dir goes
    if rec.status == Status.EXITED:
        from dockyard.engine.restart import after_exit

        after_exit(engine, rec)  # its policy may bring it back: status restarting
    engine.containers.update(rec)
    if ran:
        _record_exit(engine, rec, info)
    # after the record: a reader never sees "running" without the exit file
    remove_run_dir(engine, rec.id)
    if rec.host.auto_remove:
        from dockyard.engine.remove import remove_everything

        remove_everything(engine, rec, volumes=True)
    return rec


def _record_exit(engine: Engine, rec: ContainerRecord, info: ExitInfo) -> None:
    """``oom`` (when the kernel killed it) and ``die``, at the moment the monitor saw it end."""
    from dockyard.engine.clock import parse_ns
    from dockyard.engine.events import container_event

    try:
        ended = parse_ns(rec.state.finished_at)
        ran_ns = ended - parse_ns(rec.state.started_at) if rec.state.started_at else 0
    except ValueError:
        ended = ran_ns = 0
    if info.oom_killed:
        container_event(engine, rec, "oom", time_ns=ended)
    extra = {"exitCode": str(info.exit_code), "execDuration": str(max(0, ran_ns) // 10**9)}
    container_event(engine, rec, "die", extra, ended)
    from dockyard.engine.events import network_endpoints_event

    network_endpoints_event(engine, rec, "disconnect")


def remove_run_dir(engine: Engine, container_id: str) -> None:
    """The monitor's files. A foreground run still holding fg.lock keeps its descriptor."""
    run = engine.paths.run_dir(container_id)
    # Again while something writes in it: a monitor that outlived its CLI (its runtime's
    # create failing once the state was deleted) may write exit.json after the listing.
    # Once the directory is gone, its writes fail.
    for _ in range(10):
        try:
            names = posix.listdir(run)
        except FileNotFoundError:
            return
        for name in names:
            try:
                posix.unlink(f"{run}/{name}")
            except (FileNotFoundError, IsADirectoryError):
                pass
        try:
            posix.rmdir(run)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                return  # a foreground run's descriptor, say: as before, left
