"""``run``: create, start and, unless detached, wait for the container and delete it."""

from __future__ import annotations

import posix

from dockyard.linux import libc as L
from dockyard.runtime.create import CreateOptions, bundle_dir, create
from dockyard.runtime.delete import destroy
from dockyard.runtime.signals import SIGNALS
from dockyard.runtime.start import release
from dockyard.runtime.state import Lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.runtime.hooks import Warn

# Signals a foreground ``run`` passes on to the container (runc forwards all it
# can catch). Not SIGWINCH: that resizes the container's pty (console.relay).
_FORWARDED = tuple(
    SIGNALS[name]
    for name in (
        *("HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "TERM", "TSTP", "TTIN", "TTOU"),
        *("URG", "XCPU", "XFSZ", "VTALRM", "PROF", "IO", "PWR"),
    )
)


def run(
    root: str, container_id: str, opts: CreateOptions, detach: bool, keep: bool, warn: Warn
) -> int:
    # Start and delete work on the state create returns: nothing can have
    # changed it in between, and reading it back would cost.
    if detach:
        state = create(root, container_id, opts, warn)
        try:
            with Lock(root, container_id):
                release(state, warn)
        except BaseException:
            destroy(state, warn)
            raise
        return 0
    # The init is our grandchild; as a subreaper we inherit it when the
    # intermediate process exits, and can wait for it.
    L.prctl(L.PR_SET_CHILD_SUBREAPER, 1)
    relay_socket = None
    if not opts.console_socket:
        from dockyard.oci.runtime_spec import load_spec

        opts.spec = load_spec(bundle_dir(opts.bundle))  # read once: create takes it
        if opts.spec.process is not None and opts.spec.process.terminal:
            from dockyard.runtime import console

            relay_socket, opts.console_fd = console.socket_pair()
    state = create(root, container_id, opts, warn)  # takes ownership of opts.console_fd
    try:
        forward_signals(state.pid)
        master = terminal = None
        if relay_socket is not None:
            master = console.receive_master(relay_socket)
            terminal = console.host_terminal()
            console.copy_window_size(terminal, master)  # before the program starts
        with Lock(root, container_id):
            release(state, warn)
        if master is not None:
            console.relay(master, terminal)
        status = wait_for(state.pid)
    finally:
        if not keep:
            destroy(state, warn)
    return status


def forward_signals(pid: int) -> None:
    import _signal  # type: ignore[import-not-found]  # signal.py costs ~10 ms (enum)

    def forward(signum: int, frame: object) -> None:
        try:
            posix.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in _FORWARDED:
        _signal.signal(signum, forward)


def wait_for(pid: int) -> int:
    """Reap children until ``pid`` exits; its exit status, 128+N if signal N killed it."""
    while True:
        try:
            reaped, status = posix.waitpid(-1, 0)
        except ChildProcessError:
            return 255
        if reaped == pid:
            code = posix.waitstatus_to_exitcode(status)
            return 128 - code if code < 0 else code
