"""The container's process, set up after its root filesystem: terminal, working
directory, rlimits, user, capabilities, descriptors, and the program to run.

Shared by the init (``container_init``) and ``exec`` (``exec_init``).
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError, InvalidSpec
from dockyard.linux import capabilities, fspath
from dockyard.linux import libc as L
from dockyard.runtime.init_config import capability_masks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.oci.runtime_spec import Process
    from dockyard.runtime.init_config import InitConfig

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_EPERM, _EINVAL = 1, 22


def setup_terminal(cfg: InitConfig, process: Process) -> None:
    """A new pty in the container's devpts; the master goes to --console-socket."""
    if cfg.console_fd is None:
        raise DockyardError("process.terminal is set but no console socket was given")
    import _socket

    master = posix.open("/dev/ptmx", posix.O_RDWR | posix.O_NOCTTY | posix.O_CLOEXEC)
    try:
        L.ioctl_int(master, L.TIOCSPTLCK, 0)  # unlockpt
        number = L.ioctl_get_int(master, L.TIOCGPTN)
        name = f"/dev/pts/{number}"
        slave = posix.open(name, posix.O_RDWR | posix.O_NOCTTY)
        posix.fchown(slave, process.user.uid, process.user.gid)
        if process.console_size:
            L.set_window_size(slave, *process.console_size)
        sock = _socket.socket(fileno=cfg.console_fd)
        try:
            sock.sendmsg(
                [name.encode()],
                [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, master.to_bytes(4, "little"))],
            )
        finally:
            sock.close()
    finally:
        posix.close(master)
    L.ioctl_none(slave, L.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        posix.dup2(slave, fd)
    posix.close(slave)


def setup_process(cfg: InitConfig, process: Process, root_fd: int) -> None:
    from dockyard.linux import inroot

    spec = cfg.spec
    # The working directory, made inside the root if missing, and proven to be
    # inside it: a cwd through a leaked descriptor (/proc/self/fd/N) would not be.
    try:
        fd = inroot.mkdir_all(root_fd, process.cwd)
        posix.close(fd)
        posix.chdir(process.cwd)
        posix.getcwd()
    except OSError as exc:
        raise DockyardError(f"process.cwd {process.cwd}: {exc.strerror or exc}") from exc
    for index, limit in enumerate(process.rlimits):  # types checked by check()
        try:
            L.setrlimit(L.RLIMITS[limit.type], limit.soft, limit.hard)
        except OSError as exc:
            raise DockyardError(
                f"process.rlimits[{index}]: cannot set {limit.type} to "
                f"{limit.soft}/{limit.hard}: {exc.strerror}"
                + (" (above the hard limit the runtime has?)" if exc.errno == _EPERM else "")
            ) from exc
    if spec.linux.personality:
        L.personality(L.PER_LINUX32 if spec.linux.personality == "LINUX32" else L.PER_LINUX)
    posix.umask(process.user.umask if process.user.umask is not None else 0o022)
    masks = capability_masks(process)
    if masks is not None:
        capabilities.drop_bounding(masks[0])
        L.prctl(L.PR_SET_KEEPCAPS, 1)
    if cfg.seccomp is not None and not cfg.seccomp.late:
        # Without no_new_privs only CAP_SYS_ADMIN may install a filter, and the
        # process is about to lose it: now or never (as runc does).
        cfg.seccomp.install()
    _set_ids(process)
    if masks is not None:
        L.prctl(L.PR_SET_KEEPCAPS, 0)
        capabilities.apply(masks[1], masks[2], masks[3], masks[4])
    if process.no_new_privileges:
        L.prctl(L.PR_SET_NO_NEW_PRIVS, 1)
    # Nothing of the runtime's reaches the container: every descriptor past
    # stdio and the preserved ones closes on exec.
    first_closed = 3 + cfg.preserve_fds
    L.close_range(first_closed, 0xFFFFFFFF, L.CLOSE_RANGE_CLOEXEC)
    for fd in range(3, first_closed):
        try:
            posix.set_inheritable(fd, True)
        except OSError:
            pass


def _set_ids(process: Process) -> None:
    user = process.user
    try:
        if _setgroups_allowed():
            posix.setgroups(user.additional_gids)
        posix.setresgid(user.gid, user.gid, user.gid)
        posix.setresuid(user.uid, user.uid, user.uid)
    except OSError as exc:
        raise DockyardError(
            f"cannot become uid {user.uid} gid {user.gid}: {exc.strerror}"
            + (" (is it mapped in the user namespace?)" if exc.errno == _EINVAL else "")
        ) from exc


def _setgroups_allowed() -> bool:
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() != "deny"
    except OSError:
        return True


def find_executable(process: Process) -> tuple[str, dict[str, str]]:
    env: dict[str, str] = {}
    for entry in process.env:
        key, sep, value = entry.partition("=")
        if sep:
            env[key] = value
    if not process.args:
        raise InvalidSpec("process.args", "must name the program to run")
    name = process.args[0]
    if "/" in name:
        candidates = [name]
    else:
        candidates = [f"{d or '.'}/{name}" for d in env.get("PATH", DEFAULT_PATH).split(":")]
    for path in candidates:
        if fspath.isfile(path) and posix.access(path, posix.X_OK):
            return path, env
    if "/" in name:
        raise DockyardError(f'exec: "{name}": no such file or executable')
    raise DockyardError(f'exec: "{name}": executable file not found in $PATH')
