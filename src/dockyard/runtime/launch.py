"""From a prepared process to the container's program: the steps around the
seccomp filter, in the order real-world profiles depend on.

A profile is written for runc: whatever the init does after it installs
the filter must be no more than runc's init does there, or a profile runc
runs under breaks the container. So everything that can come first does
(``process_setup.prepare``: executable lookup, /proc/self/setgroups,
descriptors, signals), "ready" goes to the runtime before the filter, and:

with no_new_privileges (the filter is "late")::

    user and capabilities, no_new_privs, [listener: ready, filter, hand-off],
    ready and "waiting" (one write), the channel closed, exec fifo opened
    (waits for ``start``), startContainer hooks, "0", filter, exec

without (only CAP_SYS_ADMIN may install a filter, so it goes in before the
capabilities do, as in runc)::

    ready, filter [hand-off], user and capabilities, "waiting" and the channel
    closed, exec fifo, hooks, "0", exec

After the filter the init makes only prctl, setgroups, setgid, setuid and
capset (early filter), write, read and close (the listener's hand-off and
the channel), openat and write (the fifo) and execve of the trampoline by
path: all calls runc's init makes after its filter too. ``exec`` takes the
same steps without "ready" and the fifo, its channel open until the exec.
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError
from dockyard.linux import init_calls, trampoline
from dockyard.runtime import process_setup
from dockyard.runtime.state import EXEC_FIFO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.oci.runtime_spec import Process
    from dockyard.runtime.channel import Channel
    from dockyard.runtime.init_config import InitConfig
    from dockyard.runtime.process_setup import Prepared
    from dockyard.runtime.seccomp import Program


class Handover:
    """Where an error of the container's process goes: the runtime's channel
    while ``create`` (or ``exec``) reads it, then the exec fifo ``start``
    reads: "E" and the message before "0", the message after it."""

    __slots__ = ("chan", "fifo", "released")

    def __init__(self, chan: Channel) -> None:
        self.chan: Channel | None = chan
        self.fifo = -1
        self.released = False

    def fail(self, message: str) -> None:
        if self.chan is not None:
            self.chan.send("error", message)
        elif self.fifo >= 0:
            prefix = b"" if self.released else b"E"
            init_calls.current.write(self.fifo, prefix + message.encode(errors="replace"))


def launch(
    cfg: InitConfig,
    process: Process,
    prepared: Prepared,
    handover: Handover,
    wait_for_start: bool = True,
) -> NoReturn:
    """Take the steps of the module's docstring; exec the program or raise."""
    chan = handover.chan
    assert chan is not None
    seccomp = cfg.seccomp
    # "ready" (for ``create``; ``exec`` waits for the exec) before any filter,
    # and with "waiting" when no filter comes between: the runtime wakes once.
    ready = wait_for_start and seccomp is not None and (not seccomp.late or seccomp.notifies)
    if ready:
        chan.send("ready")
    if seccomp is not None and not seccomp.late:
        _install(seccomp, chan)
    process_setup.become_user(process, prepared)
    if wait_for_start:
        if seccomp is not None and seccomp.notifies and not seccomp.installed:
            _install(seccomp, chan)  # while the runtime listens: it hands the descriptor on
        chan.send_words(*(["waiting"] if ready else ["ready", "waiting"]))  # ``create`` returns
        handover.chan = None
        chan.close()
        _wait_for_start(cfg, handover)
    if seccomp is not None and not seccomp.installed:
        _install(seccomp, handover.chan)
    try:
        # Through the sealed trampoline, so that the program can never be handed
        # the runtime's own binary as /proc/self/exe (CVE-2019-5736).
        trampoline.execve(prepared.exec_target, prepared.path, prepared.argv, prepared.env)
    except OSError as exc:
        raise DockyardError(f"unable to exec {prepared.path}: {exc.strerror}") from exc


def _install(seccomp: Program, chan: Channel | None) -> None:
    """The filter; with a listener, its descriptor's number goes to the runtime,
    which takes the descriptor (pidfd_getfd) and hands it on before we go on."""
    notify_fd = seccomp.install()
    if notify_fd < 0:
        return
    assert chan is not None  # a listener's filter goes in while the runtime listens
    chan.send("seccomp", str(notify_fd))
    if chan.recv()[0] != "seccompDone":
        raise DockyardError("the runtime did not hand the seccomp listener its descriptor")
    init_calls.current.close(notify_fd)


def _wait_for_start(cfg: InitConfig, handover: Handover) -> None:
    """Wait on the exec fifo for ``start``, run the startContainer hooks, say "0"."""
    calls = init_calls.current
    flags = posix.O_WRONLY | posix.O_CLOEXEC
    handover.fifo = calls.open(EXEC_FIFO, flags, dir_fd=cfg.state_dir_fd)  # blocks until start
    calls.close(cfg.state_dir_fd)
    hooks = cfg.spec.hooks.get("startContainer")
    if hooks:
        from dockyard.runtime.hooks import run_hooks

        state = {
            "ociVersion": cfg.spec.oci_version,
            "id": cfg.container_id,
            "status": "created",
            "pid": posix.getpid(),
            "bundle": cfg.bundle,
            "annotations": cfg.spec.annotations,
        }
        run_hooks("startContainer", hooks, state)
    calls.write(handover.fifo, b"0")
    handover.released = True
