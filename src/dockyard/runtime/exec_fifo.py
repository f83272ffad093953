"""The init's last steps: wait on the exec fifo for ``start``, then exec.

``create`` has returned by then; ``start`` opens the fifo's other end and
reads what the init writes: "0" once it goes on to exec, "E" and a message
when it failed before that, "0" and a message when it failed after.
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError, HookFailed
from dockyard.runtime.state import EXEC_FIFO

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.runtime.init_config import InitConfig


def wait_and_exec(cfg: InitConfig, path: str, env: dict[str, str]) -> NoReturn:
    from dockyard.linux import trampoline

    process = cfg.spec.process
    assert process is not None
    # Blocks until ``start`` opens the other end.
    fifo = posix.open(EXEC_FIFO, posix.O_WRONLY | posix.O_CLOEXEC, dir_fd=cfg.state_dir_fd)
    posix.close(cfg.state_dir_fd)
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
        try:
            run_hooks("startContainer", hooks, state)
        except HookFailed as exc:
            posix.write(fifo, b"E" + str(exc).encode())
            posix._exit(1)
    posix.write(fifo, b"0")
    if cfg.seccomp is not None and not cfg.seccomp.installed:
        # As late as can be: only what follows runs under the container's filter.
        try:
            cfg.seccomp.install()
        except DockyardError as exc:
            posix.write(fifo, str(exc).encode())  # after "0", ``start`` reports the rest
            posix._exit(1)
    try:
        # Through a sealed trampoline, so that the program can never be handed
        # the runtime's own binary as /proc/self/exe (CVE-2019-5736).
        trampoline.execve(cfg.trampoline, path, process.args, env)
    except OSError as exc:
        posix.write(fifo, f"exec {path}: {exc.strerror}".encode())
    posix._exit(127)


def report_to_start(cfg: InitConfig, message: str) -> None:
    try:
        fifo = posix.open(EXEC_FIFO, posix.O_WRONLY | posix.O_CLOEXEC, dir_fd=cfg.state_dir_fd)
        posix.write(fifo, b"E" + message.encode())
    except OSError:
        pass
