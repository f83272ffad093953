"""Adopt mode: create the container in a grandchild that then becomes its monitor by exec.

    engine ── fork ──► A ── fork ──► B   (A exits at once: B is nobody's child we keep)
                                    B: child subreaper, setsid, stdio = the container's pipes
                                    B: runtime library create → the init is B's child
                                    B: exec dockyard-monitor --adopt PID --stdout-fd ...

No runtime process starts and no Python stays: B is the monitor from its
exec on. The engine waits only for A and for the monitor's sync line. A
short-lived engine (the CLI, `Engine.short_lived`) forks B itself, without
A (a second copy of its pages, ~0.7 ms): the monitor is its child only
until it exits, moments later.
Everything B runs is inside one ``try`` that ends in ``_exit``: a failure
there must never return into the engine's own code in a forked copy.
"""

from __future__ import annotations

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.engine.engine import Engine
    from dockyard.engine.launch import Launched
    from dockyard.engine.runtime_client import LibraryRuntime
    from dockyard.engine.types import ContainerRecord


def _pipe() -> tuple[int, int]:
    return posix.pipe()  # both ends close-on-exec (PEP 446)


def adopt(
    monitor: str,
    options: Callable[[Engine, ContainerRecord, int], list[str]],
    engine: Engine,
    rec: ContainerRecord,
    runtime: LibraryRuntime,
    bundle: str,
    pid_file: str,
    netns_file: str = "",
    on_born: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    early: bool = False,
) -> Launched:
    from dockyard.engine.launch import Launched, Sync
    from dockyard.engine.locks import close_held_in_child
    from dockyard.linux import libc
    from dockyard.oci.runtime_spec import load_spec
    from dockyard.runtime.create import CreateOptions, create, warm  # loaded before the forks

    spec = load_spec(bundle)
    warm(spec, rec.id)  # B's imports done here, before the forks
    sync_r, sync_w = _pipe()
    tty = rec.config.tty
    ends: list[int] = []  # every descriptor made here, closed by the engine after the fork
    if tty:
        from dockyard.runtime import console

        relay, init_console = console.socket_pair()
        ends += [relay, init_console]
    else:
        out_r, out_w = _pipe()
        err_r, err_w = _pipe()
        ends += [out_r, out_w, err_r, err_w]
        if rec.config.open_stdin:
            in_r, in_w = _pipe()
            ends += [in_r, in_w]
    argv = [monitor, *options(engine, rec, sync_w)]
    double = not engine.short_lived
    child = posix.fork()
    if child == 0:
        status = 1
        try:
            if double and posix.fork() != 0:
                posix._exit(0)
            # the engine's container locks, or the waiting init would hold them
            # after the engine is gone (a CLI killed before start: rm -f hangs)
            close_held_in_child()
            libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
            posix.setsid()
            devnull = posix.open("/dev/null", posix.O_RDWR)
            opts = CreateOptions(bundle, pid_file=pid_file)
            opts.spec = spec
            if netns_file:
                opts.on_born = _announcer(sync_w, netns_file)
            if tty:
                opts.console_fd = init_console
                for fd in (0, 1, 2):
                    posix.dup2(devnull, fd)
            else:
                posix.dup2(in_r if rec.config.open_stdin else devnull, 0)
                posix.dup2(out_w, 1)
                posix.dup2(err_w, 2)
            state = create(runtime.root, rec.id, opts)
            # The container's ends live in the init now; the monitor must not
            # hold them, or it would never see their end of file.
            for fd in (0, 1, 2):
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
                if rec.config.open_stdin:
                    keep.append(in_w)
                    argv += ["--stdin-fd", str(in_w)]
            for fd in keep:
                posix.set_inheritable(fd, True)
            argv += ["--adopt", str(state.pid)]
            if early:  # the engine goes on to start it while we become the monitor
                created = b'{"created": %d, "monitor": %d}\n' % (state.pid, posix.getpid())
                try:
                    posix.write(sync_w, created)
                except OSError:
                    pass  # the engine is gone: the monitor still holds the container
            try:
                posix.execv(monitor, argv)
            except OSError as exc:
                _say(sync_w, f"cannot run the container monitor {monitor}: {exc.strerror}")
                runtime.delete(rec.id, force=True)
        except BaseException as exc:
            _say(sync_w, str(exc) or type(exc).__name__)
        finally:
            posix._exit(status)
    for fd in [sync_w, *ends]:
        posix.close(fd)
    if double:
        posix.waitpid(child, 0)
    if meanwhile is not None:
        meanwhile()
    sync = Sync(sync_r)
    doc = sync.read(on_born, created=early)
    pid = int(str(doc.get("created", doc.get("pid", 0))))
    return Launched(pid, int(str(doc.get("monitor", 0))), sync)


def _announcer(sync_w: int, netns_file: str) -> Callable[[int], None]:
    """In B, once the init exists: its new network namespace kept at ``netns_file``
    (here, by its parent, which has not reaped it: the pid is surely the init's),
    then the engine told, to wire it while the init mounts."""

    def born(pid: int) -> None:
        from dockyard.engine.net_attach import keep_netns

        keep_netns(pid, netns_file)
        posix.write(sync_w, b'{"born": %d}\n' % pid)

    return born


def _say(fd: int, message: str) -> None:
    from dockyard.oci import jsonio

    try:
        posix.write(fd, (jsonio.dumps_compact({"error": message}) + "\n").encode())
    except OSError:
        pass
