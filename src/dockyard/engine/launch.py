"""Put a created container under its monitor (docs/monitor.md), ready for ``RUNTIME start``.

Two ways, one result: a ``dockyard-monitor`` process that is the parent of
the container's init, holds its stdio, writes its log and exit file and
serves attach, with no Python left behind.

- Adopt mode (Dockyard's own runtime): the engine forks twice; the
  grandchild makes itself a child subreaper, creates the container with the
  runtime library (the init becomes its child), and execs the monitor with
  ``--adopt PID`` and the container's stdio descriptors. No runtime process
  is started at all: this is most of what makes ``run`` fast.
- Spawn mode (runc, crun, any runc-like binary): the engine starts the
  monitor, which runs the runtime's ``create`` command line itself.

Either way the engine reads one sync line: ``{"pid": N}`` or ``{"error": ...}``.
"""

from __future__ import annotations

import posix

from dockyard.errors import HostError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.engine import Engine
    from dockyard.engine.runtime_client import BinaryRuntime, LibraryRuntime
    from dockyard.engine.types import ContainerRecord

# the files of <run root>/c/<id>/
PID_FILE = "pid"
MONITOR_PID_FILE = "monitor.pid"
EXIT_FILE = "exit.json"
ATTACH_SOCKET = "attach"
CTL_FIFO = "ctl"
FOREGROUND_LOCK = "fg.lock"


class StartFailed(HostError):
    """The runtime could not create or start the container; the message is the runtime's."""


def dockyard_command() -> list[str]:
    """How a monitor's exit command calls us back: the ``dockyard`` that is running
    (the CLI), else the one beside this Python (the Python API in a venv), else
    ``python -m``."""
    import sys

    running = sys.argv[0] if sys.argv else ""
    candidates = [running] if running.rpartition("/")[2] == "dockyard" else []
    candidates.append(f"{sys.executable.rpartition('/')[0]}/dockyard")
    for candidate in candidates:
        if candidate.startswith("/") and posix.access(candidate, posix.X_OK):
            return [candidate]
    return [sys.executable, "-m", "dockyard.cli.docker_main"]


def exit_command(engine: Engine, rec: ContainerRecord) -> list[str]:
    """``container cleanup ID``, skipped (by flock -n) while a foreground CLI holds fg.lock:
    that CLI cleans up itself, and no Python needs to start for nothing."""
    run = engine.paths.run_dir(rec.id)
    base = [
        *dockyard_command(),
        "--root",
        engine.paths.root,
        "--run-root",
        engine.paths.run_root,
        "container",
        "cleanup",
        rec.id,
    ]
    for directory in ("/usr/bin", "/bin"):
        if posix.access(f"{directory}/flock", posix.X_OK):
            return [f"{directory}/flock", "-n", "-E", "0", f"{run}/{FOREGROUND_LOCK}", *base]
    return base


def monitor_options(engine: Engine, rec: ContainerRecord, sync_fd: int) -> list[str]:
    run = engine.paths.run_dir(rec.id)
    opts = [
        "--id",
        rec.id,
        "--sync-fd",
        str(sync_fd),
        "--monitor-pid-file",
        f"{run}/{MONITOR_PID_FILE}",
        "--exit-file",
        f"{run}/{EXIT_FILE}",
        "--attach-socket",
        f"{run}/{ATTACH_SOCKET}",
        "--ctl-fifo",
        f"{run}/{CTL_FIFO}",
    ]
    log = rec.host.log_config
    if log.type == "none":
        opts += ["--log-driver", "none"]
    else:
        opts += ["--log-driver", "json-file", "--log-path", engine.paths.log_path(rec.id)]
        if log.config.get("max-size"):
            from dockyard.engine.parse import parse_bytes

            opts += ["--log-max-size", str(parse_bytes(log.config["max-size"], "max-size"))]
        if log.config.get("max-file"):
            opts += ["--log-max-file", log.config["max-file"]]
    if rec.config.tty:
        opts.append("--tty")
    if rec.config.open_stdin:
        opts.append("--stdin")
        if rec.config.stdin_once:
            opts.append("--stdin-once")
    for arg in exit_command(engine, rec):
        opts += ["--exit-command", arg]
    if rec.config.healthcheck is not None:
        from dockyard.engine.health_probe import monitor_options as health_options

        opts += health_options(engine, rec)
    return opts


def prepare_run_dir(engine: Engine, container_id: str) -> str:
    """An empty run directory for a new start (a previous run's files removed)."""
    from dockyard.engine.bundle import make_dir

    run = engine.paths.run_dir(container_id)
    make_dir(run, 0o700)
    for name in posix.listdir(run):
        if name != FOREGROUND_LOCK:
            try:
                posix.unlink(f"{run}/{name}")
            except (FileNotFoundError, IsADirectoryError):
                pass
    return run


class Sync:
    """The sync pipe of a start, read line by line: ``{"born": PID}`` from the process
    that creates the container (adopt mode) once the init exists, ``{"created": PID,
    "monitor": PID}`` from it just before it becomes the monitor (when asked for),
    then the monitor's own ``{"pid": PID}`` or anyone's ``{"error": ...}``."""

    __slots__ = ("fd", "pending")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def _line(self) -> dict[str, object]:
        from dockyard.oci import jsonio

        while b"\n" not in self.pending:
            chunk = posix.read(self.fd, 4096)
            if not chunk:
                break
            self.pending += chunk
        data, _, self.pending = self.pending.partition(b"\n")
        if not data.strip():
            raise StartFailed("the container monitor exited without a word (see its exit file)")
        try:
            doc = jsonio.loads(data.strip())
        except ValueError:
            raise StartFailed(f"the container monitor said {data[:200]!r}") from None
        if not isinstance(doc, dict):
            raise StartFailed(f"the container monitor said {data[:200]!r}")
        if "error" in doc:
            raise StartFailed(str(doc["error"]))
        return doc

    def read(
        self, on_born: Callable[[int], None] | None = None, created: bool = False
    ) -> dict[str, object]:
        """The monitor's line (the pipe closed then), or with ``created`` the creating
        process's last one (the pipe left open for `confirm`)."""
        try:
            while True:
                doc = self._line()
                if "born" in doc:
                    if on_born is not None:
                        on_born(int(str(doc["born"])))
                    continue
                if "created" in doc:
                    if created:
                        return doc
                    continue
                self.close()
                return doc
        except BaseException:
            self.close()
            raise

    def confirm(self) -> None:
        """Wait for the monitor's line, if it has not been read: it runs."""
        if self.fd >= 0:
            self.read()

    def close(self) -> None:
        if self.fd >= 0:
            posix.close(self.fd)
            self.fd = -1


class Launched:
    """A created container: its init and monitor; `Sync.confirm` before it is done."""

    __slots__ = ("monitor_pid", "pid", "sync")

    def __init__(self, pid: int, monitor_pid: int, sync: Sync) -> None:
        self.pid = pid
        self.monitor_pid = monitor_pid
        self.sync = sync


def _read_sync(fd: int) -> dict[str, object]:
    """The monitor's sync line (``fd`` closed)."""
    return Sync(fd).read()


def launch(
    engine: Engine,
    rec: ContainerRecord,
    runtime: LibraryRuntime | BinaryRuntime,
    netns_file: str = "",
    on_born: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    early: bool = False,
) -> Launched:
    """Create the container under a new monitor. Raises StartFailed.

    ``netns_file``: where the namespace the runtime makes is to be kept; in
    adopt mode the creating process keeps it there as soon as the init exists
    and ``on_born(pid)`` runs then, while the init goes on with its setup.
    ``meanwhile()`` runs once the creating process is off, before the wait.
    ``early``: in adopt mode return once the container is created, while that
    process execs the monitor (the caller confirms it before it is done; the
    monitor reaps an init that ends before its loop begins)."""
    from dockyard.engine.monitor import binary

    monitor = binary()
    prepare_run_dir(engine, rec.id)
    if rec.config.healthcheck is not None:
        from dockyard.engine import health_probe

        if health_probe.wanted(rec):
            health_probe.write(engine, rec)  # the monitor runs the checks (docs/monitor.md)
    bundle = engine.paths.container_dir(rec.id)
    pid_file = f"{engine.paths.run_dir(rec.id)}/{PID_FILE}"
    if runtime.in_process:
        from dockyard.engine.adopt import adopt

        return adopt(
            monitor,
            monitor_options,
            engine,
            rec,
            runtime,  # type: ignore[arg-type]
            bundle,
            pid_file,
            netns_file,
            on_born,
            meanwhile,
            early,
        )
    pid = _spawn(monitor, engine, rec, runtime, bundle, pid_file, meanwhile)
    return Launched(pid, 0, Sync(-1))


def _spawn(
    monitor: str,
    engine: Engine,
    rec: ContainerRecord,
    runtime: LibraryRuntime | BinaryRuntime,
    bundle: str,
    pid_file: str,
    meanwhile: Callable[[], None] | None,
) -> int:
    sync_r, sync_w = posix.pipe()
    argv = [
        monitor,
        *monitor_options(engine, rec, 3),
        "--pid-file",
        pid_file,
        "--",
        *runtime.create_argv(rec.id, bundle, pid_file, rec.config.tty),
    ]
    try:
        child = posix.posix_spawn(
            monitor,
            argv,
            posix.environ,
            file_actions=[(posix.POSIX_SPAWN_DUP2, sync_w, 3)],
        )
    except OSError as exc:
        posix.close(sync_r)
        raise HostError(f"cannot start the container monitor {monitor}: {exc.strerror}") from exc
    finally:
        posix.close(sync_w)
    posix.waitpid(child, 0)  # it forks the monitor and exits at once
    if meanwhile is not None:
        meanwhile()
    doc = _read_sync(sync_r)
    return int(str(doc.get("pid", 0)))


def monitor_pid(engine: Engine, container_id: str) -> int:
    try:
        with open(f"{engine.paths.run_dir(container_id)}/{MONITOR_PID_FILE}", "rb") as f:
            return int(f.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0
