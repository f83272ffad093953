"""The container side of ``exec``: join a running container and become a process in it.

The runtime forks ``exec_intermediate``; it turns itself non-dumpable first
(nothing in the container may open its /proc/PID/exe or fds, the
CVE-2019-5736 class), joins the container's namespaces by its init's
/proc/PID/ns files (the user namespace first) and forks, so the child is
born in the pid namespace. The child sets up the process as the init does
(``process_setup``) and takes the same last steps around the seccomp filter
(``launch``), without the exec fifo, and execs.
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError
from dockyard.linux import init_calls
from dockyard.linux import libc as L
from dockyard.runtime import process_setup
from dockyard.runtime.cgroup_join import join_v1_cgroups
from dockyard.runtime.init_config import describe, make_trampoline
from dockyard.runtime.launch import Handover, launch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

    from dockyard.runtime.channel import Channel
    from dockyard.runtime.init_config import InitConfig

# The order runc joins in: user first (the others may need its privileges),
# mount last but one so /proc paths of the init stay reachable until then.
_JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "time", "mount")


def open_namespaces(init_pid: int, kinds: list[str]) -> list[tuple[str, int]]:
    """Descriptors of the init's namespaces that differ from ours, in join order."""
    opened = []
    for kind in _JOIN_ORDER:
        if kind not in kinds:
            continue
        name = L.NAMESPACE_PROC_NAMES[kind]
        theirs = f"/proc/{init_pid}/ns/{name}"
        try:
            if posix.stat(theirs).st_ino == posix.stat(f"/proc/self/ns/{name}").st_ino:
                continue  # shared with the host: nothing to join
            opened.append((kind, posix.open(theirs, posix.O_RDONLY | posix.O_CLOEXEC)))
        except FileNotFoundError:
            continue  # e.g. no time namespaces on this kernel
    return opened


def exec_intermediate(
    cfg: InitConfig, chan: Channel, namespaces: list[tuple[str, int]]
) -> NoReturn:
    try:
        L.prctl(L.PR_SET_DUMPABLE, 0)
        spec = cfg.spec
        if spec.linux.seccomp is not None and spec.process is not None:
            from dockyard.runtime.seccomp import Program

            cfg.seccomp = Program(spec.linux.seccomp, spec.process, cfg.state_dir_fd)
        # Made on the host side: after joining the mount namespace memfds still
        # work, but the host's stdlib (and our cache) would be out of reach.
        make_trampoline(cfg)
        if chan.recv()[0] != "go":
            posix._exit(1)
        join_v1_cgroups(cfg.cgroup_tasks)  # still the host's root: before joining anything
        # The cgroup namespace is joined by the child, once it is in the
        # container's cgroup: the kernel refuses CLONE_INTO_CGROUP (ENOENT)
        # from a cgroup outside the namespace's root.
        later = [(kind, fd) for kind, fd in namespaces if kind == "cgroup"]
        _join([(kind, fd) for kind, fd in namespaces if kind != "cgroup"])
        pid = posix.fork() if cfg.cgroup_fd is None else L.clone(0, cfg.cgroup_fd)
        if pid == 0:
            _join(later)
            _exec_child(cfg, chan)
        chan.send("pid", str(pid))
        posix._exit(0)
    except BaseException as exc:
        try:
            chan.send("error", describe(exc))
        finally:
            posix._exit(1)


def _join(namespaces: list[tuple[str, int]]) -> None:
    for kind, fd in namespaces:
        try:
            L.setns(fd, L.NAMESPACE_FLAGS[kind])
        except OSError as exc:
            raise DockyardError(
                f"cannot join the container's {kind} namespace: {exc.strerror}"
            ) from exc
        posix.close(fd)


def _exec_child(cfg: InitConfig, chan: Channel) -> NoReturn:
    handover = Handover(chan)  # open until the exec: the runtime reads errors to the end
    try:
        process = cfg.spec.process
        assert process is not None
        init_calls.current.setsid()
        if process.oom_score_adj is not None:  # as runc's exec: the container's score
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(str(process.oom_score_adj))
        if process.terminal:
            process_setup.setup_terminal(cfg, process)
        root_fd = posix.open("/", posix.O_PATH | posix.O_DIRECTORY | posix.O_CLOEXEC)
        try:
            prepared = process_setup.prepare(cfg, process, root_fd)
        finally:
            posix.close(root_fd)
        launch(cfg, process, prepared, handover, wait_for_start=False)
    except BaseException as exc:
        try:
            handover.fail(describe(exc))
        finally:
            posix._exit(127)
