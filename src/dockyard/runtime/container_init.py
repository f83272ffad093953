"""The container's init, from its birth to the exec of the container's program.

Born in its new namespaces (cloned by the runtime, or forked by
``intermediate``): pid 1 of a new pid namespace. It joins its v1 cgroups
itself, builds the root filesystem and pivots into it (`_build`), prepares
the process (``process_setup``), then takes the last steps around the
seccomp filter and waits on the exec fifo for ``start`` (``launch``). It
never returns: it ends in ``_exit`` or ``execve``, and starts no threads.
"""

from __future__ import annotations

import errno
import posix

from dockyard.errors import DockyardError
from dockyard.linux import init_calls
from dockyard.linux import libc as L
from dockyard.oci import jsonio
from dockyard.runtime import process_setup
from dockyard.runtime.cgroup_join import join_v1_cgroups
from dockyard.runtime.init_config import describe
from dockyard.runtime.launch import Handover, launch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.oci.runtime_spec import Process
    from dockyard.runtime.channel import Channel
    from dockyard.runtime.init_config import InitConfig
    from dockyard.runtime.process_setup import Prepared

_KEYCTL_JOIN_SESSION_KEYRING = 1
#: keyctl errors that mean "keep the session keyring we have"
_KEEP_KEYRING = (errno.ENOSYS, errno.EPERM, errno.EACCES, errno.EDQUOT)


def container_init(cfg: InitConfig, chan: Channel) -> NoReturn:
    handover = Handover(chan)
    try:
        process = cfg.spec.process
        assert process is not None  # checked by create
        prepared = _build(cfg, chan, process)
        launch(cfg, process, prepared, handover)
    except BaseException as exc:
        try:
            handover.fail(describe(exc))
        finally:
            posix._exit(1)


def _build(cfg: InitConfig, chan: Channel, process: Process) -> Prepared:
    """Cgroups, the root filesystem, hooks, then the process up to its last steps."""
    from dockyard.runtime import rootfs  # loaded by create before the fork

    calls = init_calls.current
    spec = cfg.spec
    if cfg.cgroup_tasks:  # cloned by the runtime: we join the v1 hierarchies ourselves
        join_v1_cgroups(cfg.cgroup_tasks)
    net = spec.namespace("network")
    if net is not None and not net.path:
        L.interface_up("lo")  # as runc and crun do: 127.0.0.1 works from the start
    calls.setsid()
    calls.prctl(L.PR_SET_DUMPABLE, 0)  # nothing in the container may ptrace or read our fds
    if spec.linux.seccomp is not None:
        from dockyard.runtime.seccomp import Program

        # Built (or found in the state root's cache) now; installed in ``launch``.
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
            calls.unshare(L.CLONE_NEWCGROUP)  # rooted at the cgroup we are now in
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
        if spec.hostname:  # in the new uts namespace, or in the one joined (as runc)
            calls.sethostname(spec.hostname)
        if spec.domainname:
            calls.setdomainname(spec.domainname)
        if new_mount_ns:
            _make_cwd(root_fd, process.cwd)  # while the root may still be written
            rootfs.readonly_paths(root_fd, spec.linux.readonly_paths)
            rootfs.mask_paths(root_fd, spec.linux.masked_paths)
            if spec.root_readonly:
                rootfs.readonly_root()
        if process.terminal:
            process_setup.setup_terminal(cfg, process)
        return process_setup.prepare(cfg, process, root_fd)
    finally:
        posix.close(root_fd)


def _make_cwd(root_fd: int, cwd: str) -> None:
    """Create a missing working directory inside the root (``prepare`` enters it)."""
    from dockyard.linux import inroot

    try:
        posix.close(inroot.mkdir_all(root_fd, cwd))
    except OSError as exc:
        raise DockyardError(f"process.cwd {cwd}: {exc.strerror or exc}") from exc


def _join_session_keyring(name: str) -> None:
    try:
        init_calls.current.keyctl(_KEYCTL_JOIN_SESSION_KEYRING, name)
    except OSError as exc:
        if exc.errno not in _KEEP_KEYRING:
            raise
