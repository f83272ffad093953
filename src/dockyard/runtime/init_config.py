"""What the runtime hands to the container's processes, and what it checks and
loads before it forks them.

The container's side of ``create`` runs in stages, a module each:
``intermediate`` (joined namespaces, a new user namespace, time offsets),
``container_init`` (cgroups, the root filesystem), ``process_setup`` (the
process up to the seccomp filter) and ``launch`` (the steps around the
filter, the exec fifo, the exec); ``exec`` has its own ``exec_init``.
Every module those processes need is imported by the runtime before it
forks them (`preload`): an import after a fork costs twice as much (its
pages are copied on write), and after pivot_root the host's stdlib is out
of reach.
"""

from __future__ import annotations

import errno

from dockyard.errors import DockyardError, HostError, InvalidSpec
from dockyard.linux import capabilities
from dockyard.linux import libc as L

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.oci.runtime_spec import Process, Spec
    from dockyard.runtime.seccomp import Program


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
        #: the fast way into the container's cgroup (``cgroup_join``): v1
        #: "tasks" files the init (or intermediate) writes "0" to itself, and
        #: a cgroup v2 directory the init is born in (clone3 CLONE_INTO_CGROUP).
        #: Neither waits for the RCU grace period a migration through
        #: cgroup.procs costs. Empty when the runtime moves the init itself
        #: (user namespaces).
        self.cgroup_tasks: list[str] = []
        self.cgroup_fd: int | None = None


def describe(exc: BaseException) -> str:
    """One line for an error of the container's processes, sent to the runtime."""
    if isinstance(exc, DockyardError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return f"{type(exc).__name__}: {exc}"


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


def make_trampoline(cfg: InitConfig) -> None:
    """The sealed exec trampoline (``linux/trampoline.py``), out of the way of
    the descriptors preserved for the container; no container without it."""
    from dockyard.linux import trampoline

    try:
        cfg.trampoline = trampoline.make(3 + cfg.preserve_fds)
    except OSError as exc:
        hint = (
            " (vm.memfd_noexec forbids executable memfds here)" if exc.errno == errno.EACCES else ""
        )
        raise HostError(
            f"cannot make the exec trampoline (the CVE-2019-5736 defence): {exc.strerror}{hint}"
        ) from exc


def capability_masks(process: Process) -> list[int] | None:
    """bounding, effective, permitted, inheritable, ambient; InvalidSpec on an unknown name."""
    caps = process.capabilities
    if caps is None:
        return None
    return [
        capabilities.mask_of(getattr(caps, kind), f"process.capabilities.{kind}")
        for kind in ("bounding", "effective", "permitted", "inheritable", "ambient")
    ]
