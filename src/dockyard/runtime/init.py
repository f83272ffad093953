"""The container side of ``create``: the processes that become the container.

Usually the runtime clones ``container_init`` directly, born in its new
namespaces (and, with cgroup v2, in its cgroup): pid 1 of a new pid
namespace. It joins its v1 cgroups itself, builds the root filesystem, pivots
into it, sets up the process (user, capabilities, rlimits...) and waits on
the exec fifo until ``start``; then it execs the user's program.

A namespace joined by path, a new user namespace (mapped by the runtime
before the others are made) or time offsets (written before anyone enters)
need a step between: ``intermediate`` is forked first, joins and unshares
in the right order and forks ``container_init``. Neither returns: both end
in ``_exit`` or ``execve``. No threads are started here, and every module
the container's processes need is imported by the runtime before it forks
them (an import after a fork costs twice as much: its pages are copied on
write).
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError, HookFailed, InvalidSpec
from dockyard.linux import capabilities, fspath
from dockyard.linux import libc as L
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.oci.runtime_spec import Process, Spec
    from dockyard.runtime.channel import Channel
    from dockyard.runtime.seccomp import Program

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_KEYCTL_JOIN_SESSION_KEYRING = 1


class InitConfig:
    """What the runtime hands to the processes it forks."""

    __slots__ = (
        "bundle",
        "cgroup_fd",
        "cgroup_tasks",
        "console_fd",
        "container_id",
        "no_new_keyring",
        "no_pivot",
        "preserve_fds",
        "rootfs",
        "seccomp",
        "spec",
        "state_dir_fd",
        "trampoline",
    )

    def __init__(
        self,
        container_id: str,
        spec: Spec,
        bundle: str,
        rootfs: str,
        state_dir_fd: int,
        console_fd: int | None,
        preserve_fds: int,
        no_pivot: bool,
        no_new_keyring: bool,
    ) -> None:
        self.container_id = container_id
        self.spec = spec
        self.bundle = bundle
        self.rootfs = rootfs
        self.state_dir_fd = state_dir_fd
        self.console_fd = console_fd
        self.preserve_fds = preserve_fds
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        #: the container's seccomp filter, built by the init before pivot_root
        self.seccomp: Program | None = None
        #: the sealed exec trampoline (CVE-2019-5736), made before pivot_root
        self.trampoline: int | None = None
        #: the fast way into the container's cgroup (``cgroup_self_join``): v1
        #: "tasks" files the init (or intermediate) writes "0" to itself, and
        #: a cgroup v2 directory the init is born in (clone3 CLONE_INTO_CGROUP).
        #: Neither waits for the RCU grace period a migration through
        #: cgroup.procs costs. Empty when the runtime moves the init itself
        #: (user namespaces).
        self.cgroup_tasks: list[str] = []
        self.cgroup_fd: int | None = None


def describe(exc: BaseException) -> str:
    if isinstance(exc, DockyardError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return f"{type(exc).__name__}: {exc}"


def intermediate(cfg: InitConfig, chan: Channel) -> NoReturn:
    """Forked by ``create`` before the container's cgroup exists: while the runtime
    makes it, make the trampoline; on "go", join the cgroup and the namespaces
    and fork the init."""
    try:
        spec = cfg.spec
        from dockyard.linux import trampoline

        cfg.trampoline = trampoline.make(3 + cfg.preserve_fds)
        word, join = chan.recv()
        if word != "go":
            posix._exit(1)
        if join:  # the cgroup now made, to join (none: the runtime moves the init)
            cfg.cgroup_tasks, cfg.cgroup_fd = cgroup_self_join(jsonio.loads(join))
        join_v1_cgroups(cfg.cgroup_tasks)  # first: joined namespaces change how paths resolve
        cfg.cgroup_tasks = []  # the init is born in them
        _join_namespaces(spec)
        user = spec.namespace("user")
        if user is not None and not user.path:
            _enter_new_user_namespace(chan)
        _unshare_new(spec)
        pid = posix.fork() if cfg.cgroup_fd is None else L.clone(0, cfg.cgroup_fd)
        if pid == 0:
            container_init(cfg, chan)
        chan.send("pid", str(pid))
        posix._exit(0)
    except BaseException as exc:
        try:
            chan.send("error", describe(exc))
        finally:
            posix._exit(1)


def join_v1_cgroups(tasks_files: list[str]) -> None:
    """Move this process into the cgroup of every v1 hierarchy: a single thread
    writing "0" to "tasks" moves itself, and the kernel skips the global lock
    (and the RCU grace period) a write to cgroup.procs takes."""
    for tasks in tasks_files:
        fd = posix.open(tasks, posix.O_WRONLY | posix.O_CLOEXEC)
        try:
            posix.write(fd, b"0")
        finally:
            posix.close(fd)


def tasks_files(paths: dict[str, str]) -> list[str]:
    return sorted({f"{d}/tasks" for key, d in paths.items() if key})


def cgroup_self_join(paths: dict[str, str]) -> tuple[list[str], int | None]:
    """How a process enters a cgroup by itself: the v1 "tasks" files it writes
    "0" to, and a descriptor of the v2 directory to fork into (CLONE_INTO_CGROUP)."""
    v2 = (
        posix.open(paths[""], posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
        if "" in paths
        else None
    )
    return tasks_files(paths), v2


def clone_flags(spec: Spec) -> int | None:
    """The CLONE_NEW* flags the init can be born with, straight from the runtime;
    None when it needs the intermediate (see the module's docstring)."""
    if spec.namespace("user") is not None or any(ns.path for ns in spec.linux.namespaces):
        return None
    if spec.linux.time_offsets:
        return None
    return new_namespace_flags(spec)


def new_namespace_flags(spec: Spec) -> int:
    """CLONE_NEW* of the namespaces to make, but user (made first, alone) and
    cgroup (made by the init once it is in its cgroup)."""
    flags = 0
    for ns in spec.linux.namespaces:
        if not ns.path and ns.type not in ("user", "cgroup"):
            flags |= L.NAMESPACE_FLAGS[ns.type]
    return flags


def _enter_new_user_namespace(chan: Channel) -> None:
    """Unshare the user namespace and become its root once the runtime mapped us."""
    may_set_gids = _has_cap_setgid()
    L.unshare(L.CLONE_NEWUSER)
    if not may_set_gids:
        _deny_setgroups()
    chan.send("userns")
    if chan.recv()[0] != "mapped":
        posix._exit(1)
    posix.setresgid(0, 0, 0)
    posix.setresuid(0, 0, 0)
    # Changing ids made us non-dumpable, which makes our /proc files
    # root's; we still write timens_offsets there.
    L.prctl(L.PR_SET_DUMPABLE, 1)


def _unshare_new(spec: Spec) -> None:
    """Unshare the new namespaces (``new_namespace_flags``)."""
    flags = new_namespace_flags(spec)
    if flags:
        L.unshare(flags)
    if flags & L.CLONE_NEWTIME and spec.linux.time_offsets:
        _write_time_offsets(spec.linux.time_offsets)


def _has_cap_setgid() -> bool:
    return bool(L.capget()[0] & (1 << capabilities.CAPABILITIES["CAP_SETGID"]))


def _deny_setgroups() -> None:
    """A runtime without CAP_SETGID (rootless) may only map its own gid, and the
    kernel wants setgroups denied first: else the container could drop the
    caller's groups and reach files that deny that group (CVE-2014-8989)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")


def _join_namespaces(spec: Spec) -> None:
    # The user namespace first: joining the others may need its privileges.
    joins = sorted((ns for ns in spec.linux.namespaces if ns.path), key=lambda n: n.type != "user")
    for ns in joins:
        try:
            fd = posix.open(ns.path, posix.O_RDONLY | posix.O_CLOEXEC)
        except OSError as exc:
            raise DockyardError(
                f"cannot open {ns.type} namespace {ns.path}: {exc.strerror}"
            ) from exc
        try:
            L.setns(fd, L.NAMESPACE_FLAGS[ns.type])
        except OSError as exc:
            raise DockyardError(
                f"cannot join {ns.type} namespace {ns.path}: {exc.strerror}"
                + (" (is it a namespace of that type?)" if exc.errno == 22 else "")
            ) from exc
        finally:
            posix.close(fd)


def _write_time_offsets(offsets: dict[str, tuple[int, int]]) -> None:
    clock_ids = {"monotonic": 1, "boottime": 7}
    with open("/proc/self/timens_offsets", "w") as f:
        for clock, (secs, nanosecs) in offsets.items():
            f.write(f"{clock_ids[clock]} {secs} {nanosecs}\n")


def container_init(cfg: InitConfig, chan: Channel) -> NoReturn:
    ready = False
    try:
        path, env = _setup(cfg, chan)
        ready = True
        _wait_and_exec(cfg, path, env)
    except BaseException as exc:
        message = describe(exc)
        try:
            if not ready:
                chan.send("error", message)
            else:
                # The runtime that created us is gone; ``start`` reads the fifo.
                _report_to_start(cfg, message)
        finally:
            posix._exit(1)


def preload(spec: Spec) -> None:
    """Check the spec and import what the init needs, before forking it."""
    check(spec)
    load_modules(spec)


def check(spec: Spec) -> None:
    """What fails create before anything runs, and what the runtime's side loads."""
    if "createContainer" in spec.hooks or "startContainer" in spec.hooks:
        import dockyard.runtime.hooks

        dockyard.runtime.hooks.preload()
    if spec.process is not None:
        capability_masks(spec.process)  # an unknown name fails create before anything runs
        for index, limit in enumerate(spec.process.rlimits):
            if limit.type not in L.RLIMITS:
                raise InvalidSpec(f"process.rlimits[{index}].type", f"unknown rlimit {limit.type}")
    if spec.linux.seccomp is not None:
        import dockyard.runtime.seccomp

        dockyard.runtime.seccomp.preload(spec.linux.seccomp)


def load_modules(spec: Spec) -> None:
    """Import what only the container's processes use (``create`` and ``exec`` do,
    before they fork them).

    After pivot_root the host's stdlib is out of reach, and in a user
    namespace it may be unreadable even before (/root is 0700).
    """
    import dockyard.linux.inroot
    import dockyard.linux.trampoline  # noqa: F401

    if spec.process is not None and spec.process.terminal:
        import _socket  # noqa: F401


def _setup(cfg: InitConfig, chan: Channel) -> tuple[str, dict[str, str]]:
    from dockyard.runtime import rootfs  # loaded by create before the fork

    spec = cfg.spec
    process = spec.process
    assert process is not None  # checked by create
    if cfg.cgroup_tasks:  # cloned by the runtime: we join the v1 hierarchies ourselves
        join_v1_cgroups(cfg.cgroup_tasks)
    net = spec.namespace("network")
    if net is not None and not net.path:
        L.interface_up("lo")  # as runc and crun do: 127.0.0.1 works from the start
    posix.setsid()
    L.prctl(L.PR_SET_DUMPABLE, 0)  # nothing in the container may ptrace or read our fds
    if spec.linux.seccomp is not None:
        from dockyard.runtime.seccomp import Program

        # Built (or found in the state root's cache) now; installed right before exec.
        cfg.seccomp = Program(spec.linux.seccomp, process, cfg.state_dir_fd)
    cgroup_ns = spec.namespace("cgroup")
    in_cgroup = False

    def join_cgroup() -> None:
        # The runtime sets the cgroup's limits (and in a user namespace moves
        # us into it, which waits for an RCU grace period) while we mount; we
        # wait for it only where it matters: before a cgroup mount or mknod
        # (the device rules pass through a deny-all on their way).
        nonlocal in_cgroup
        if chan.recv()[0] != "cgroup":
            posix._exit(1)
        if cgroup_ns is not None and not cgroup_ns.path:
            L.unshare(L.CLONE_NEWCGROUP)  # rooted at the cgroup we are now in
        in_cgroup = True

    if not cfg.no_new_keyring:
        _join_session_keyring(cfg.container_id)
    if process.oom_score_adj is not None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(process.oom_score_adj))
    in_userns = spec.namespace("user") is not None
    mount_ns = spec.namespace("mount")
    new_mount_ns = mount_ns is not None and not mount_ns.path
    if new_mount_ns:
        rootfs.prepare_root(cfg.rootfs, spec.linux.rootfs_propagation)
        root_fd = posix.open(cfg.rootfs, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
        try:
            dev_from_host = False
            for index, mount in enumerate(spec.mounts):
                if mount.type in ("cgroup", "cgroup2") and not in_cgroup:
                    join_cgroup()
                rootfs.mount_one(
                    root_fd, mount, f"mounts[{index}]", cfg.bundle, in_userns, cgroup_ns is not None
                )
                binds = "bind" in (mount.type, *mount.options)
                if mount.destination.rstrip("/") == "/dev" and binds:
                    dev_from_host = True
            if not dev_from_host:
                if not in_cgroup:
                    join_cgroup()
                rootfs.make_devices(root_fd, spec.linux.devices, in_userns)
                has_devpts = any(m.type == "devpts" for m in spec.mounts)
                rootfs.make_dev_links(root_fd, has_devpts)
        finally:
            posix.close(root_fd)
    if not in_cgroup:
        join_cgroup()
    chan.send("createRuntime")
    word, state_json = chan.recv()
    if word != "ok":
        posix._exit(1)
    if cfg.seccomp is not None:
        cfg.seccomp.state_json = state_json  # for the seccomp listener
    if "createContainer" in spec.hooks:
        from dockyard.runtime.hooks import run_hooks

        state = jsonio.loads(state_json)
        state["pid"] = posix.getpid()  # a hook in the container's namespaces: its own view
        run_hooks("createContainer", spec.hooks["createContainer"], state)
    if new_mount_ns:
        rootfs.pivot_into(cfg.rootfs, cfg.no_pivot)
        if spec.linux.rootfs_propagation:
            rootfs.set_propagation(spec.linux.rootfs_propagation)
    else:
        posix.chroot(cfg.rootfs)
        posix.chdir("/")
    root_fd = posix.open("/", posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        rootfs.write_sysctls(spec)
        if spec.hostname:
            L.sethostname(spec.hostname)
        if spec.domainname:
            L.setdomainname(spec.domainname)
        if new_mount_ns:
            _make_cwd(root_fd, process.cwd)  # while the root may still be written
            rootfs.readonly_paths(root_fd, spec.linux.readonly_paths)
            rootfs.mask_paths(root_fd, spec.linux.masked_paths)
            if spec.root_readonly:
                rootfs.readonly_root()
        if process.terminal:
            setup_terminal(cfg, process)
        setup_process(cfg, process, root_fd)
    finally:
        posix.close(root_fd)
    path, env = find_executable(process)
    chan.send("ready")
    chan.close()
    return path, env


def _make_cwd(root_fd: int, cwd: str) -> None:
    """Create a missing working directory inside the root (setup_process enters it)."""
    from dockyard.linux import inroot

    try:
        posix.close(inroot.mkdir_all(root_fd, cwd))
    except OSError as exc:
        raise DockyardError(f"process.cwd {cwd}: {exc.strerror or exc}") from exc


def _join_session_keyring(name: str) -> None:
    try:
        L.keyctl(_KEYCTL_JOIN_SESSION_KEYRING, name)
    except OSError as exc:
        if exc.errno not in (38, 1, 13, 122):  # ENOSYS, EPERM, EACCES, EDQUOT: keep the old one
            raise


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
                + (" (above the hard limit the runtime has?)" if exc.errno == 1 else "")
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
    _set_ids(cfg, process)
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


def capability_masks(process: Process) -> list[int] | None:
    """bounding, effective, permitted, inheritable, ambient; InvalidSpec on an unknown name."""
    caps = process.capabilities
    if caps is None:
        return None
    return [
        capabilities.mask_of(getattr(caps, kind), f"process.capabilities.{kind}")
        for kind in ("bounding", "effective", "permitted", "inheritable", "ambient")
    ]


def _set_ids(cfg: InitConfig, process: Process) -> None:
    user = process.user
    try:
        if _setgroups_allowed():
            posix.setgroups(user.additional_gids)
        posix.setresgid(user.gid, user.gid, user.gid)
        posix.setresuid(user.uid, user.uid, user.uid)
    except OSError as exc:
        raise DockyardError(
            f"cannot become uid {user.uid} gid {user.gid}: {exc.strerror}"
            + (" (is it mapped in the user namespace?)" if exc.errno == 22 else "")
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


def _wait_and_exec(cfg: InitConfig, path: str, env: dict[str, str]) -> NoReturn:
    from dockyard.linux import trampoline

    process = cfg.spec.process
    assert process is not None
    # Blocks until ``start`` opens the other end.
    fifo = posix.open("exec.fifo", posix.O_WRONLY | posix.O_CLOEXEC, dir_fd=cfg.state_dir_fd)
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


def _report_to_start(cfg: InitConfig, message: str) -> None:
    try:
        fifo = posix.open("exec.fifo", posix.O_WRONLY | posix.O_CLOEXEC, dir_fd=cfg.state_dir_fd)
        posix.write(fifo, b"E" + message.encode())
    except OSError:
        pass
