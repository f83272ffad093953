"""Start an exec session's process under a monitor of its own, as a container's init is.

Podman does the same with conmon: the session outlives the command that
started it (``exec -d``, a killed CLI, a detach), its stdio stays held, and
its exit status is written to an exit file. The monitor's two ways:

- Adopt mode (Dockyard's own runtime, in-process): the engine forks twice;
  the grandchild makes itself a child subreaper, starts the process with
  the runtime library's exec (detached: the process is left to the
  grandchild as its subreaper), then execs the monitor ``--adopt PID``.
- Spawn mode (runc, crun, any runc-like): the monitor runs ``RUNTIME exec
  --detach --pid-file P --process process.json ID`` and takes the process
  when the runtime exits.

The process runs at once (there is no ``start`` for an exec), so a client
that must see all of its output connects before it exists: the engine
binds and listens on the session's attach socket itself, connects, and
hands the listening socket to the monitor (``--attach-fd``), which accepts
that pending client before it reads any output.
"""

from __future__ import annotations

import posix

from dockyard.engine.launch import StartFailed, _read_sync

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.runtime_client import BinaryRuntime, LibraryRuntime

# the files of <run root>/exec/<exec id>/
PROCESS_FILE = "process.json"


def listen_and_connect(path: str) -> tuple[int, int]:
    """(listening socket at ``path``, a client connected to it), both close-on-exec."""
    import _socket

    directory, _, name = path.rpartition("/")
    dirfd = posix.open(directory, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    # through the directory's descriptor: sun_path holds 108 bytes, run roots can be longer
    short = f"/proc/self/fd/{dirfd}/{name}"
    server = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        server.bind(short)
        posix.chmod(path, 0o600)
        server.listen(16)
        client.connect(short)  # queued in the backlog until the monitor accepts it
    except BaseException:
        server.close()
        client.close()
        raise
    finally:
        posix.close(dirfd)
    return int(server.detach()), int(client.detach())


def spawn(
    monitor: str,
    options: list[str],
    runtime: LibraryRuntime | BinaryRuntime,
    container_id: str,
    process_path: str,
    pid_file: str,
    tty: bool,
    attach_fd: int | None,
) -> int:
    """The monitor runs the runtime's exec; the process's pid. Raises StartFailed."""
    from dockyard.errors import HostError

    sync_r, sync_w = posix.pipe()
    actions = [(posix.POSIX_SPAWN_DUP2, sync_w, 3)]
    argv = [monitor, "--sync-fd", "3", *options, "--pid-file", pid_file]
    if attach_fd is not None:
        actions.append((posix.POSIX_SPAWN_DUP2, attach_fd, 4))
        argv += ["--attach-fd", "4"]
    argv += ["--", *runtime.exec_argv(container_id, process_path, pid_file, tty)]
    try:
        child = posix.posix_spawn(monitor, argv, posix.environ, file_actions=actions)
    except OSError as exc:
        posix.close(sync_r)
        raise HostError(f"cannot start the exec monitor {monitor}: {exc.strerror}") from exc
    finally:
        posix.close(sync_w)
    posix.waitpid(child, 0)  # it forks the monitor and exits at once
    try:
        doc = _read_sync(sync_r)
    except StartFailed as exc:
        from dockyard.engine.runtime_client import _last_line

        raise StartFailed(_last_line(str(exc))) from None  # runc's log line: its msg
    return int(str(doc.get("pid", 0)))


def adopt(
    monitor: str,
    options: list[str],
    runtime: LibraryRuntime,
    container_id: str,
    process_path: str,
    pid_file: str,
    tty: bool,
    stdin: bool,
    attach_fd: int | None,
) -> int:
    """Start the process with the runtime library in a grandchild that becomes its monitor."""
    from dockyard.engine.adopt import _say
    from dockyard.linux import libc
    from dockyard.runtime.exec import ExecOptions, exec_process  # loaded before the forks

    sync_r, sync_w = posix.pipe()
    ends: list[int] = []
    if tty:
        from dockyard.runtime import console

        relay, console_end = console.socket_pair()
        ends += [relay, console_end]
    else:
        out_r, out_w = posix.pipe()
        err_r, err_w = posix.pipe()
        ends += [out_r, out_w, err_r, err_w]
        if stdin:
            in_r, in_w = posix.pipe()
            ends += [in_r, in_w]
    argv = [monitor, "--sync-fd", str(sync_w), *options]
    child = posix.fork()
    if child == 0:
        try:
            if posix.fork() != 0:
                posix._exit(0)
            libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
            posix.setsid()
            devnull = posix.open("/dev/null", posix.O_RDWR)
            opts = ExecOptions()
            opts.process_path = process_path
            opts.detach = True
            opts.pid_file = pid_file
            if tty:
                opts.console_fd = console_end
                for fd in (0, 1, 2):
                    posix.dup2(devnull, fd)
            else:
                posix.dup2(in_r if stdin else devnull, 0)
                posix.dup2(out_w, 1)
                posix.dup2(err_w, 2)
            exec_process(runtime.root, container_id, opts)
            with open(pid_file, "rb") as f:
                pid = int(f.read().strip())
            for fd in (0, 1, 2):  # the process has its ends: the monitor must not hold them
                posix.dup2(devnull, fd)
            keep = [sync_w]
            if tty:
                from dockyard.runtime import console

                master = console.receive_master(relay)
                keep.append(master)
                argv += ["--pty-fd", str(master)]
            else:
                keep += [out_r, err_r]
                argv += ["--stdout-fd", str(out_r), "--stderr-fd", str(err_r)]
                if stdin:
                    keep.append(in_w)
                    argv += ["--stdin-fd", str(in_w)]
            if attach_fd is not None:
                keep.append(attach_fd)
                argv += ["--attach-fd", str(attach_fd)]
            for fd in keep:
                posix.set_inheritable(fd, True)
            argv += ["--adopt", str(pid)]
            try:
                posix.execv(monitor, argv)
            except OSError as exc:
                _say(sync_w, f"cannot run the exec monitor {monitor}: {exc.strerror}")
                posix.kill(pid, 9)  # nobody would hold it
        except BaseException as exc:
            _say(sync_w, str(exc) or type(exc).__name__)
        finally:
            posix._exit(1)
    for fd in [sync_w, *ends]:
        posix.close(fd)
    posix.waitpid(child, 0)
    return int(str(_read_sync(sync_r).get("pid", 0)))
