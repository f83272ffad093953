"""``create``: set a container up and leave its process waiting for ``start``."""

from __future__ import annotations

import posix

from dockyard.errors import Conflict, DockyardError, HostError, InvalidSpec, NotFound
from dockyard.linux import fspath
from dockyard.oci import jsonio
from dockyard.oci.runtime_spec import load_spec
from dockyard.runtime import channel
from dockyard.runtime.init_driver import Cgroup, drive, init_born
from dockyard.runtime.state import EXEC_FIFO, ContainerState, remove_dir, valid_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.oci.runtime_spec import Spec
    from dockyard.runtime.hooks import Warn
    from dockyard.runtime.init_config import InitConfig


class CreateOptions:
    __slots__ = (
        "bundle",
        "console_fd",
        "console_socket",
        "no_new_keyring",
        "no_pivot",
        "on_born",
        "pid_file",
        "preserve_fds",
        "rootless",
        "spec",
    )

    def __init__(
        self,
        bundle: str,
        pid_file: str = "",
        console_socket: str = "",
        no_pivot: bool = False,
        no_new_keyring: bool = False,
        preserve_fds: int = 0,
        rootless: bool = False,
    ) -> None:
        self.bundle = bundle
        self.pid_file = pid_file
        self.console_socket = console_socket
        self.no_pivot = no_pivot
        self.no_new_keyring = no_new_keyring
        self.preserve_fds = preserve_fds
        #: an already connected console socket (a foreground ``run`` relays itself)
        self.console_fd: int | None = None
        #: the bundle's config.json, when the caller has read it already
        self.spec: Spec | None = None
        #: without real root a cgroup that cannot be made is done without,
        #: unless linux.resources asks for limits (runc's rootless rule)
        self.rootless = rootless
        #: called with the init's pid as soon as it exists (it goes on setting up):
        #: the engine keeps and wires its new network namespace meanwhile
        self.on_born: Callable[[int], None] | None = None


def check_spec(spec: Spec) -> None:
    """What the runtime spec requires beyond field types, checked before anything runs."""
    if spec.process is None:
        raise InvalidSpec("process", "is required to create a container")
    if not spec.process.args:
        raise InvalidSpec("process.args", "must name the program to run")
    if (spec.hostname or spec.domainname) and spec.namespace("uts") is None:
        # A joined one will do: the name is set there, as runc does.
        raise InvalidSpec("hostname", "needs a uts namespace of its own (linux.namespaces)")
    user = spec.namespace("user")
    if (
        user is not None
        and not user.path
        and not (spec.linux.uid_mappings and spec.linux.gid_mappings)
    ):
        raise InvalidSpec("linux.uidMappings", "a new user namespace needs uid and gid mappings")
    if (spec.linux.uid_mappings or spec.linux.gid_mappings) and user is None:
        raise InvalidSpec("linux.uidMappings", "mappings need a user namespace (linux.namespaces)")
    time_ns = spec.namespace("time")
    if spec.linux.time_offsets and (time_ns is None or time_ns.path):
        raise InvalidSpec("linux.timeOffsets", "offsets need a new time namespace")
    for key in spec.linux.sysctl:
        if key.startswith("net.") and spec.namespace("network") is None:
            raise InvalidSpec(f"linux.sysctl.{key}", "needs a network namespace")
        if (
            key.startswith(("kernel.msg", "kernel.sem", "kernel.shm", "fs.mqueue."))
            and spec.namespace("ipc") is None
        ):
            raise InvalidSpec(f"linux.sysctl.{key}", "needs an ipc namespace")


def bundle_dir(bundle: str) -> str:
    """The bundle's absolute path, symlinks resolved."""
    try:
        return fspath.realpath(bundle or ".")
    except OSError as exc:
        raise NotFound(f"bundle {bundle or '.'}: {exc.strerror}") from None


def resolve_rootfs(spec: Spec, bundle: str) -> str:
    path = spec.root_path if spec.root_path.startswith("/") else f"{bundle}/{spec.root_path}"
    try:
        resolved = fspath.realpath(path)
    except OSError:
        resolved = ""
    if not resolved or not fspath.isdir(resolved):
        raise NotFound(f"root.path: rootfs {resolved or path} does not exist or is not a directory")
    return resolved


def create(
    root: str, container_id: str, opts: CreateOptions, warn: Warn | None = None
) -> ContainerState:
    valid_id(container_id)
    bundle = bundle_dir(opts.bundle)
    spec = opts.spec or load_spec(bundle)
    check_spec(spec)
    rootfs = resolve_rootfs(spec, bundle)
    directory = f"{root}/{container_id}"
    try:
        fspath.makedirs(root, 0o711)
        posix.mkdir(directory, 0o711)
    except FileExistsError:
        if not fspath.isdir(root):
            raise HostError(f"state directory {root} is not a directory") from None
        raise Conflict(f"container {container_id} already exists") from None
    except OSError as exc:
        raise HostError(f"cannot make the state directory {directory}: {exc.strerror}") from exc
    state = ContainerState(container_id, directory, bundle, rootfs, spec.raw)
    try:
        _spawn(state, spec, opts)
    except BaseException:
        _abandon(state, warn)
        raise
    return state


def warm(spec: Spec, container_id: str) -> None:
    """Import everything `create` will use for ``spec``: for a caller that forks the
    process which then calls it (the engine's adopt mode), where an import costs
    about twice as much as here (pages copied on write)."""
    from dockyard.cgroups.manager import manager_for
    from dockyard.runtime.init_config import preload

    preload(spec)
    manager_for(spec.linux.cgroups_path, container_id)  # imports this host's manager
    import dockyard.cgroups.devices
    import dockyard.runtime.cgroup_join
    import dockyard.runtime.container_init
    import dockyard.runtime.namespaces
    import dockyard.runtime.rootfs  # noqa: F401


def _spawn(state: ContainerState, spec: Spec, opts: CreateOptions) -> None:
    from dockyard.cgroups.devices import container_resources
    from dockyard.cgroups.manager import manager_for
    from dockyard.runtime.init_config import InitConfig, preload
    from dockyard.runtime.namespaces import clone_flags

    # Everything the container's processes run is loaded before they are forked: an
    # import after a fork costs about twice as much (pages copied on write).
    preload(spec)
    import dockyard.runtime.rootfs  # noqa: F401

    manager = manager_for(spec.linux.cgroups_path, state.id)
    resources = container_resources(spec.raw.get("linux") or {})
    posix.mkfifo(f"{state.dir}/{EXEC_FIFO}", 0o622)
    posix.chmod(f"{state.dir}/{EXEC_FIFO}", 0o622)  # mkfifo honours the umask
    dir_fd = posix.open(state.dir, posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
    console_fd = opts.console_fd
    if opts.console_socket:
        console_fd = connect_console(opts.console_socket)
    if spec.process is not None and spec.process.terminal and console_fd is None:
        posix.close(dir_fd)
        raise DockyardError("process.terminal needs --console-socket when the runtime detaches")
    ours, theirs = channel.pair()
    cfg = InitConfig(
        state.id,
        spec,
        state.bundle,
        state.rootfs,
        dir_fd,
        console_fd,
        opts.preserve_fds,
        opts.no_pivot,
        opts.no_new_keyring,
    )
    flags = clone_flags(spec)
    cgroup = Cgroup(manager, resources, opts.rootless, opts.on_born)
    try:
        if flags is None:
            _spawn_through_intermediate(state, spec, cfg, ours, theirs, cgroup)
        else:
            _clone_init(state, spec, cfg, flags, ours, theirs, cgroup)
    finally:
        ours.close()
    if opts.pid_file:
        write_pid_file(opts.pid_file, state.pid)


def _close_inherited(cfg: InitConfig, theirs: channel.Channel) -> None:
    """Close, in the runtime, what only the container's processes keep."""
    theirs.close()
    for fd in (cfg.state_dir_fd, cfg.console_fd, cfg.trampoline):
        if fd is not None:
            posix.close(fd)


def _clone_init(
    state: ContainerState,
    spec: Spec,
    cfg: InitConfig,
    flags: int,
    ours: channel.Channel,
    theirs: channel.Channel,
    cgroup: Cgroup,
) -> None:
    """The usual way: the init is cloned straight into its new namespaces (and
    its v2 cgroup), joins its v1 cgroups itself and reports to us."""
    from dockyard.linux import libc
    from dockyard.runtime.cgroup_join import cgroup_self_join
    from dockyard.runtime.container_init import container_init
    from dockyard.runtime.init_config import describe, make_trampoline

    try:
        cgroup.make(state)
        cfg.cgroup_tasks, cgroup_fd = cgroup_self_join(state.cgroup_paths)
        try:
            make_trampoline(cfg)
            pid = libc.clone(flags, cgroup_fd)
        except OSError as exc:  # ENOSPC: a namespace limit (user.max_*_namespaces), say
            raise HostError(f"cannot start the container's init: {describe(exc)}") from exc
        finally:
            if cgroup_fd is not None:
                posix.close(cgroup_fd)
        if pid == 0:
            ours.close()
            container_init(cfg, theirs)
    finally:
        _close_inherited(cfg, theirs)
    init_born(state, ours, pid, cgroup, joined=True)
    drive(state, spec, ours, pid, cgroup, True)


def _spawn_through_intermediate(
    state: ContainerState,
    spec: Spec,
    cfg: InitConfig,
    ours: channel.Channel,
    theirs: channel.Channel,
    cgroup: Cgroup,
) -> None:
    """For joined namespaces, a new user namespace or time offsets: a process
    between us and the init orders them (see runtime/namespaces.py)."""
    from dockyard.runtime.intermediate import intermediate

    # Forked before the cgroup exists: the intermediate makes the trampoline
    # (and new namespaces) while we make it, and waits for "go".
    child = posix.fork()
    if child == 0:
        ours.close()
        intermediate(cfg, theirs)
    _close_inherited(cfg, theirs)
    try:
        cgroup.make(state)
        # The init joins by itself, without waiting for an RCU grace period;
        # in a user namespace we move it.
        joins_itself = spec.namespace("user") is None
        try:
            ours.send("go", jsonio.dumps_compact(state.cgroup_paths) if joins_itself else "")
        except channel.ChannelClosed:
            pass  # the intermediate failed; _drive reads why
        drive(state, spec, ours, child, cgroup, joins_itself)
    finally:
        ours.close()  # first: an intermediate still waiting for a word sees EOF and exits
        _reap(child)


def connect_console(path: str) -> int:
    import _socket

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise HostError(f"cannot connect to console socket {path}: {exc.strerror}") from exc
    return sock.detach()


def write_pid_file(path: str, pid: int) -> None:
    tmp = f"{path}.tmp{posix.getpid()}"
    with open(tmp, "w") as f:
        f.write(str(pid))
    posix.rename(tmp, path)


def _reap(pid: int) -> None:
    try:
        posix.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _abandon(state: ContainerState, warn: Warn | None) -> None:
    """Undo a failed create: a destroy of what exists so far."""
    if not state.pid and not state.cgroup_paths:
        remove_dir(state.dir)
        return
    from dockyard.runtime.delete import destroy

    destroy(state, warn)
