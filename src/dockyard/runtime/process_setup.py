"""The container's process, set up once its root filesystem is in place.

`prepare` does every step that needs no more than the runtime's own
rights, before the seccomp filter: terminal, working directory, rlimits,
personality, umask, the bounding set, the program to run (found and checked
for the user it will run as), /proc/self/setgroups, descriptors marked
close-on-exec, signals reset, and how to reach the exec trampoline.
`become_user` then gives up the runtime's identity: groups, gid, uid,
capabilities, no_new_privs, with the calls runc makes for it (setuid and
setgid, not setresuid). ``runtime/launch.py`` orders the two around the
filter. Shared by the init (``container_init``) and ``exec`` (``exec_init``);
system calls go through ``linux/init_calls.py``.
"""

from __future__ import annotations

import errno
import posix
from _stat import S_IMODE, S_ISREG, S_IXGRP, S_IXOTH, S_IXUSR

from dockyard.errors import DockyardError, InvalidSpec
from dockyard.linux import capabilities, init_calls, trampoline
from dockyard.linux import libc as L
from dockyard.runtime.init_config import capability_masks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.oci.runtime_spec import Process
    from dockyard.runtime.init_config import InitConfig

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ALL_FDS = 0xFFFFFFFF
_CAP_DAC_OVERRIDE = 1 << capabilities.CAPABILITIES["CAP_DAC_OVERRIDE"]


class Prepared:
    """What `prepare` found out, for the steps after it."""

    __slots__ = ("argv", "env", "exec_target", "masks", "path", "set_groups")

    def __init__(self, path: str, argv: list[str], env: dict[str, str]) -> None:
        self.path = path
        self.argv = argv
        self.env = env
        #: the trampoline's path or descriptor (``trampoline.exec_target``), None without one
        self.exec_target: str | int | None = None
        #: bounding, effective, permitted, inheritable, ambient; None: left as they are
        self.masks: list[int] | None = None
        #: may setgroups be called (not when /proc/self/setgroups says "deny")
        self.set_groups = True


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


def prepare(cfg: InitConfig, process: Process, root_fd: int) -> Prepared:
    """Everything before the filter and the change of user (see the module's docstring)."""
    from dockyard.linux import inroot

    calls = init_calls.current
    spec = cfg.spec
    # The working directory, made inside the root if missing, and proven to be
    # inside it: a cwd through a leaked descriptor (/proc/self/fd/N) would not be.
    try:
        calls.close(inroot.mkdir_all(root_fd, process.cwd))
        calls.chdir(process.cwd)
        calls.getcwd()
    except OSError as exc:
        raise DockyardError(f"process.cwd {process.cwd}: {exc.strerror or exc}") from exc
    for index, limit in enumerate(process.rlimits):  # types checked by check()
        try:
            calls.setrlimit(L.RLIMITS[limit.type], limit.soft, limit.hard)
        except OSError as exc:
            raise DockyardError(
                f"process.rlimits[{index}]: cannot set {limit.type} to "
                f"{limit.soft}/{limit.hard}: {exc.strerror}"
                + (" (above the hard limit the runtime has?)" if exc.errno == errno.EPERM else "")
            ) from exc
    if spec.linux.personality:
        calls.personality(L.PER_LINUX32 if spec.linux.personality == "LINUX32" else L.PER_LINUX)
    calls.umask(process.user.umask if process.user.umask is not None else 0o022)
    masks = capability_masks(process)
    if masks is not None:
        capabilities.drop_bounding(masks[0])
    path, env = find_executable(process, masks)
    prepared = Prepared(path, process.args, env)
    prepared.masks = masks
    prepared.set_groups = _setgroups_allowed()
    mark_descriptors(3 + cfg.preserve_fds)
    calls.reset_signals()
    if cfg.trampoline is not None:
        prepared.exec_target = trampoline.exec_target(cfg.trampoline)
        by_fd = isinstance(prepared.exec_target, int)
        if by_fd and cfg.seccomp is not None and not cfg.seccomp.allows_execveat:
            raise DockyardError(
                f"{cfg.seccomp.field}: the profile refuses execveat, and the container has no "
                "/proc to start the exec trampoline (the runtime's CVE-2019-5736 defence) "
                "by path: mount /proc or allow execveat"
            )
    return prepared


def mark_descriptors(first_closed: int) -> None:
    """Nothing of the runtime's reaches the container: every descriptor from
    ``first_closed`` on closes on exec; stdio and the preserved ones (3 up to
    it, --preserve-fds) stay open."""
    calls = init_calls.current
    try:
        calls.close_range(first_closed, _ALL_FDS, L.CLOSE_RANGE_CLOEXEC)
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL):  # before Linux 5.11
            raise
        for name in calls.listdir("/proc/self/fd"):
            if int(name) >= first_closed:
                try:
                    calls.set_inheritable(int(name), False)
                except OSError as gone:
                    if gone.errno != errno.EBADF:  # listdir's own descriptor
                        raise
    for fd in range(3, first_closed):
        try:
            calls.set_inheritable(fd, True)
        except OSError as exc:
            if exc.errno != errno.EBADF:  # not open: nothing to pass on
                raise


def become_user(process: Process, prepared: Prepared) -> None:
    """Groups, gid, uid, then capabilities and no_new_privs, in runc's order; an
    error names the step (a seccomp profile may refuse any of them)."""
    calls = init_calls.current
    user = process.user
    masks = prepared.masks
    if masks is not None:
        _step("keep the capabilities across the change of user", calls.prctl, L.PR_SET_KEEPCAPS, 1)
    if prepared.set_groups:
        gids = user.additional_gids
        _step(f"set the additional groups {gids}", calls.setgroups, gids)
    _step(f"become gid {user.gid}", calls.setgid, user.gid)
    _step(f"become uid {user.uid}", calls.setuid, user.uid)
    if masks is not None:
        _step("stop keeping the capabilities", calls.prctl, L.PR_SET_KEEPCAPS, 0)
        _step("set the capabilities", capabilities.apply, masks[1], masks[2], masks[3], masks[4])
    if process.no_new_privileges:
        _step("set no_new_privs", calls.prctl, L.PR_SET_NO_NEW_PRIVS, 1)


def _step(what: str, call: Callable[..., object], *args: object) -> None:
    """Run one step; a failure says which, as runc's "unable to ..." do."""
    try:
        call(*args)
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EINVAL and what.startswith("become"):
            hint = " (is it mapped in the user namespace?)"
        raise DockyardError(f"unable to {what}: {exc.strerror}{hint}") from exc


def _setgroups_allowed() -> bool:
    """False when /proc/self/setgroups says "deny" (a user namespace mapped without
    CAP_SETGID): setgroups would fail, and the groups stay as they are."""
    calls = init_calls.current
    try:
        fd = calls.open("/proc/self/setgroups", posix.O_RDONLY | posix.O_CLOEXEC)
    except FileNotFoundError:  # a kernel before 3.19
        return True
    try:
        return calls.read(fd, 16).strip() != b"deny"
    finally:
        calls.close(fd)


def find_executable(process: Process, masks: list[int] | None) -> tuple[str, dict[str, str]]:
    """The program's path (``$PATH`` searched as execvp does) and its environment;
    checked, as runc does at create, to be a regular file the process's user
    may execute, on a mount that allows it."""
    if not process.args:
        raise InvalidSpec("process.args", "must name the program to run")
    for index, arg in enumerate(process.args):
        if "\0" in arg:
            raise InvalidSpec(f"process.args[{index}]", "contains a NUL character")
    env: dict[str, str] = {}
    for index, entry in enumerate(process.env):
        key, sep, value = entry.partition("=")
        if not key or "\0" in entry:
            raise InvalidSpec(
                f"process.env[{index}]",
                f"{entry!r}: " + ("an empty name" if not key else "contains a NUL character"),
            )
        if sep:
            env[key] = value
    name = process.args[0]
    if "/" in name:
        candidates = [name]
    else:
        candidates = [f"{d or '.'}/{name}" for d in env.get("PATH", DEFAULT_PATH).split(":")]
    calls = init_calls.current
    denied = ""
    for path in candidates:
        try:
            st = calls.stat(path)
        except OSError:
            continue
        if not S_ISREG(st.st_mode):
            if "/" in name:  # a directory named as the command: runc says EACCES (126)
                denied = denied or path
            continue
        # access() as the runtime (root) catches noexec mounts; the mode bits,
        # the user's turn to come (the ids change after the filter).
        if calls.access(path, posix.X_OK) and _may_execute(st, process, masks):
            return path, env
        denied = denied or path
    if denied:
        raise DockyardError(f'exec: "{denied}": permission denied')
    if "/" in name:
        raise DockyardError(f'exec: "{name}": no such file or executable')
    raise DockyardError(f'exec: "{name}": executable file not found in $PATH')


def _may_execute(st: posix.stat_result, process: Process, masks: list[int] | None) -> bool:
    """May the process's user, with its capabilities, execute this file?"""
    user = process.user
    mode = S_IMODE(st.st_mode)
    # capabilities left alone (no masks): root keeps them all, others lose them
    overrides = user.uid == 0 if masks is None else bool(masks[1] & _CAP_DAC_OVERRIDE)
    if overrides:
        return bool(mode & (S_IXUSR | S_IXGRP | S_IXOTH))
    if st.st_uid == user.uid:
        return bool(mode & S_IXUSR)
    if st.st_gid == user.gid or st.st_gid in user.additional_gids:
        return bool(mode & S_IXGRP)
    return bool(mode & S_IXOTH)
