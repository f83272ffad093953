"""``exec``: another process in a running container, through the OCI runtime's exec.

The process is described as the runtime spec's ``process`` (written to the
session's process.json): the container's own process (capabilities,
rlimits, no-new-privileges) with the command, the terminal, and Docker's
exec rules for the rest. Its environment is the container's (PATH,
HOSTNAME, TERM with ``-t``, the Env, HOME of the exec's user) with ``-e``
over it; ``-u`` is looked up in the container's own /etc/passwd and
/etc/group; ``-w`` replaces the working directory; ``--privileged`` gives
every capability (the container's seccomp profile stays, as Docker's does).

Each session has a monitor and a directory of its own (engine/exec_launch.py,
``<run root>/exec/<id>/``). A foreground client holds ``fg.lock`` there
while attached and removes the directory after reading the exit status;
when no client is attached (``-d``, a detach, a killed CLI) the monitor's
exit command removes it when the process ends.
"""

from __future__ import annotations

import posix

from dockyard.engine.attach import DetachKeys, FrameReader, relay
from dockyard.engine.launch import (
    ATTACH_SOCKET,
    CTL_FIFO,
    EXIT_FILE,
    FOREGROUND_LOCK,
    MONITOR_PID_FILE,
    PID_FILE,
    StartFailed,
)
from dockyard.engine.record import field, record
from dockyard.errors import Conflict, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.attach import Foreground
    from dockyard.engine.engine import Engine
    from dockyard.engine.locks import ContainerLock
    from dockyard.engine.types import ContainerRecord


class ExecFailed(StartFailed):
    """The runtime could not start the process (its message: not found, permission denied)."""


@record
class ExecRequest:
    """What ``docker exec`` takes."""

    cmd: list[str]
    tty: bool = False
    stdin: bool = False  # -i: the process's stdin stays open for the client
    detach: bool = False
    env: list[str] = field(default_factory=list)
    user: str = ""
    workdir: str = ""
    privileged: bool = False
    console_size: tuple[int, int] | None = None  # rows, columns of the terminal at start
    id: str = ""  # made when empty


def running_container(engine: Engine, name: str) -> ContainerRecord:
    from dockyard.engine.exits import current_status
    from dockyard.engine.status import Status

    rec = engine.containers.find(name)
    status = current_status(engine, rec)
    if status == Status.PAUSED:
        raise Conflict(f"Container {name} is paused, unpause the container before exec")
    if status == Status.RESTARTING:
        raise Conflict(f"Container {rec.id} is restarting, wait until the container is running")
    if status != Status.RUNNING:
        raise Conflict(f"Container {rec.id} is not running")
    return rec


def process_spec(engine: Engine, rec: ContainerRecord, req: ExecRequest) -> dict[str, Any]:
    """The runtime spec's ``process`` for the exec."""
    from dockyard.engine import spec
    from dockyard.engine.image_facts import merge_env
    from dockyard.engine.image_user import read_in_root, resolve
    from dockyard.engine.record import replace
    from dockyard.oci import jsonio

    if not req.cmd:
        raise InvalidArgument("No exec command specified")
    with open(f"{engine.paths.container_dir(rec.id)}/config.json", "rb") as f:
        bundle = jsonio.loads(f.read())
    process: dict[str, Any] = dict(bundle.get("process") or {})
    rootfs = str((bundle.get("root") or {}).get("path", ""))
    passwd, group = read_in_root(rootfs, "/etc/passwd"), read_in_root(rootfs, "/etc/group")
    try:
        user = resolve(req.user or rec.config.user, passwd, group, rec.host.group_add)
    except NotFound as exc:  # Docker's daemon finds out as it starts the exec: 126
        raise ExecFailed(str(exc)) from exc
    config = replace(rec.config, tty=req.tty)
    env = spec.process_env(replace(rec, config=config), user)
    if req.user and not any(e.startswith("HOME=") for e in rec.config.env):
        env = merge_env(env, [f"HOME={user.home}"])  # the exec's user's, not the container's
    process["args"] = list(req.cmd)
    process["terminal"] = req.tty
    process["env"] = merge_env(env, req.env)
    process["cwd"] = req.workdir or rec.config.working_dir or "/"
    process["user"] = {"uid": user.uid, "gid": user.gid}
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    if req.privileged:
        caps = spec.all_capabilities()
        process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    process.pop("consoleSize", None)
    if req.tty and req.console_size:
        process["consoleSize"] = {"height": req.console_size[0], "width": req.console_size[1]}
    return process


def _monitor_options(
    engine: Engine, exec_id: str, rec: ContainerRecord, req: ExecRequest
) -> list[str]:
    directory = engine.paths.exec_dir(exec_id)
    opts = [
        "--id",
        exec_id,
        "--monitor-pid-file",
        f"{directory}/{MONITOR_PID_FILE}",
        "--exit-file",
        f"{directory}/{EXIT_FILE}",
        "--attach-socket",
        f"{directory}/{ATTACH_SOCKET}",
        "--ctl-fifo",
        f"{directory}/{CTL_FIFO}",
        "--log-driver",
        "none",  # Docker keeps no log of an exec's output
    ]
    if req.tty:
        opts.append("--tty")
    if req.stdin:
        opts += ["--stdin", "--stdin-once"]  # the client's end of input ends the process's
    for arg in _exit_command(directory):
        opts += ["--exit-command", arg]
    return opts


def _exit_command(directory: str) -> list[str]:
    """Remove the session's directory, unless a foreground client (fg.lock) is there to."""
    remove = ["/bin/rm", "-rf", "--", directory, f"{directory}.gone"]  # .gone: remove_dir
    for bindir in ("/usr/bin", "/bin"):
        if posix.access(f"{bindir}/flock", posix.X_OK):
            return [f"{bindir}/flock", "-n", "-E", "0", f"{directory}/{FOREGROUND_LOCK}", *remove]
    return remove


class ExecSession:
    """A started exec: its id, directory, and (attached) the socket to its monitor."""

    __slots__ = ("code", "dir", "id", "lock", "pid", "rec", "sock", "tty")

    def __init__(self, exec_id: str, directory: str, rec: ContainerRecord, tty: bool) -> None:
        self.id = exec_id
        self.dir = directory
        self.rec = rec
        self.tty = tty
        self.pid = 0
        self.sock = -1
        self.lock: Any = None
        self.code: int | None = None  # the exit status, once read

    @property
    def ctl(self) -> str:
        return f"{self.dir}/{CTL_FIFO}"

    def exit_code(self, wait: float = 10.0) -> int:
        """The process's exit status (128+N for signal N), once its monitor wrote it."""
        import time

        from dockyard.engine.exits import alive

        deadline = time.monotonic() + wait
        monitor = _read_int(f"{self.dir}/{MONITOR_PID_FILE}")
        while self.code is None:
            gone = not alive(monitor) or time.monotonic() > deadline
            self.code = read_exit_file(self.dir)
            if self.code is None and gone:
                return 255  # its monitor died without a word
            if self.code is None:
                time.sleep(0.005)
        return self.code

    def close(self) -> None:
        """Done with it: the socket closed, and (if we held fg.lock) the directory removed
        once the process has ended; otherwise the monitor's exit command removes it."""
        if self.sock >= 0:
            posix.close(self.sock)
            self.sock = -1
        if self.lock is not None:
            if self.code is None:
                self.code = read_exit_file(self.dir)
            if self.code is not None:
                remove_dir(self.dir, held=True)
            self.lock.release()
            self.lock = None


def read_exit_file(directory: str) -> int | None:
    from dockyard.oci import jsonio

    try:
        with open(f"{directory}/{EXIT_FILE}", "rb") as f:
            return int(jsonio.loads(f.read()).get("exitCode", 255))
    except (FileNotFoundError, ValueError):
        return None


def _wait_monitor_gone(directory: str, timeout: float = 5.0) -> None:
    import time

    from dockyard.engine.exits import alive

    monitor = _read_int(f"{directory}/{MONITOR_PID_FILE}")
    deadline = time.monotonic() + timeout
    while alive(monitor) and time.monotonic() < deadline:
        time.sleep(0.005)


def _read_int(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def remove_dir(directory: str, held: bool = False) -> None:
    """The session's directory: files only (the monitor's, process.json), then itself.

    ``held``: we hold its fg.lock, so the monitor's exit command (``flock -n``) may be
    running. Unlinking the lock file under it would let that command make a new one,
    lock it and remove the directory after us, or between our unlinks and our rmdir;
    the directory is renamed away first instead, and the command finds no file at all.
    """
    if held:
        gone = f"{directory}.gone"
        try:
            posix.rename(directory, gone)
        except FileNotFoundError:
            return
        directory = gone
    try:
        names = posix.listdir(directory)
    except FileNotFoundError:
        return
    for name in names:
        try:
            posix.unlink(f"{directory}/{name}")
        except FileNotFoundError:
            pass
    try:
        posix.rmdir(directory)
    except OSError:
        pass


def claim_dir(directory: str) -> ContainerLock:
    """Make the session's directory with its fg.lock held: while it is held, or while the
    session's monitor lives, the directory is in use. Both are made under a shared flock of
    the exec root, which `system check` takes exclusively to list the sessions
    (engine/check_exec.py), so it never meets a directory between its mkdir and its lock."""
    import fcntl

    from dockyard.engine.bundle import make_dir
    from dockyard.engine.locks import ContainerLock

    root = directory.rpartition("/")[0]
    make_dir(root, 0o711)
    guard = posix.open(root, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        fcntl.flock(guard, fcntl.LOCK_SH)
        make_dir(directory, 0o700)
        lock = ContainerLock(f"{directory}/{FOREGROUND_LOCK}")
        lock.acquire()
    finally:
        posix.close(guard)
    return lock


def _let_go(session: ExecSession) -> None:
    """``-d``: the monitor holds the session now. Its exit command (``flock -n``) skips
    the removal while we hold fg.lock, so a process that ended meanwhile leaves its
    directory to us: it is removed here once the lock is let go (the exit command may
    remove it too; both are idempotent)."""
    if session.lock is not None:
        session.lock.release()
        session.lock = None
    if read_exit_file(session.dir) is not None:
        remove_dir(session.dir, held=True)


def start_exec(engine: Engine, name: str, req: ExecRequest) -> ExecSession:
    """Start the process under its monitor; attached (not ``detach``): connected first."""
    from dockyard.engine import exec_launch
    from dockyard.engine.monitor import binary
    from dockyard.engine.names import new_id
    from dockyard.oci import jsonio

    rec = running_container(engine, name)
    process = process_spec(engine, rec, req)
    monitor = binary()
    exec_id = req.id or new_id()
    directory = engine.paths.exec_dir(exec_id)
    session = ExecSession(exec_id, directory, rec, req.tty)
    session.lock = claim_dir(directory)
    process_path = f"{directory}/{exec_launch.PROCESS_FILE}"
    pid_file = f"{directory}/{PID_FILE}"
    listener = None
    try:
        with open(process_path, "w", encoding="utf-8") as f:
            f.write(jsonio.dumps_compact(process))
        if not req.detach:
            listener, session.sock = exec_launch.listen_and_connect(f"{directory}/{ATTACH_SOCKET}")
        options = _monitor_options(engine, exec_id, rec, req)
        runtime = engine.runtime_for(rec.host.runtime)
        try:
            if runtime.in_process:
                session.pid = exec_launch.adopt(
                    monitor, options, runtime, rec.id, process_path, pid_file,  # type: ignore[arg-type]
                    req.tty, req.stdin, listener,
                )  # fmt: skip
            else:
                session.pid = exec_launch.spawn(
                    monitor, options, runtime, rec.id, process_path, pid_file, req.tty, listener
                )
        except StartFailed as exc:
            raise ExecFailed(str(exc)) from None
    except BaseException:
        _wait_monitor_gone(directory)  # it writes its exit file after the error line
        session.close()
        remove_dir(directory)
        raise
    finally:
        if listener is not None:
            posix.close(listener)
    if req.detach:
        _let_go(session)
    from dockyard.engine.events import exec_event

    exec_event(engine, rec, "exec_create", exec_id, req.cmd)
    exec_event(engine, rec, "exec_start", exec_id, req.cmd)
    return session


def run_exec(engine: Engine, name: str, req: ExecRequest, fg: Foreground) -> int | None:
    """Exec in the foreground: the process's exit status, or None when the user detached."""
    session = start_exec(engine, name, req)
    fg.rec = session.rec
    try:
        if fg.on_attached is not None:
            fg.on_attached(session.rec)
        reader = FrameReader(fg.out, fg.err, raw=req.tty)
        keys = DetachKeys(fg.detach_keys) if fg.detach_keys and req.tty else None
        try:
            fg.detached = relay(session.sock, reader, fg.stdin_fd if req.stdin else None, keys)
        finally:
            fg.ended()
        if fg.detached:
            return None
        code = session.exit_code()
        from dockyard.engine.events import container_event

        container_event(
            engine, session.rec, "exec_die", {"execID": session.id, "exitCode": str(code)}
        )
        return code
    finally:
        session.close()
