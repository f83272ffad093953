"""The runtime's side of a container's setup: its cgroup, and the conversation
with the init (or intermediate) over the channel until the init waits for
``start``.

The init asks and says; the runtime answers: "userns" (write the id maps),
"pid" (the init exists: record it, set the cgroup's limits, say "cgroup"),
"createRuntime" (run the prestart and createRuntime hooks), "seccomp N"
(hand a seccomp listener the init's notify descriptor), "ready" (its setup
is done; the user, capabilities and filter follow) and "waiting" (it waits
on the exec fifo: ``create`` is done). An init that dies without a word is
described as well as can be.
"""

from __future__ import annotations

import posix

from dockyard.errors import DockyardError, HostError
from dockyard.linux import proc
from dockyard.oci import jsonio
from dockyard.runtime import channel
from dockyard.runtime.signals import SIGNALS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from dockyard.cgroups.manager import CgroupManager
    from dockyard.oci.runtime_spec import Spec
    from dockyard.runtime.state import ContainerState

SIGSYS = SIGNALS["SYS"]


class Cgroup:
    """The container's cgroup as create makes it: possibly none, rootless."""

    __slots__ = ("born", "manager", "resources", "rootless")

    def __init__(
        self,
        manager: CgroupManager,
        resources: dict[str, Any],
        rootless: bool,
        born: Callable[[int], None] | None = None,
    ) -> None:
        self.manager: CgroupManager | None = manager
        self.resources = resources
        self.rootless = rootless
        #: CreateOptions.on_born, called once the init has its cgroup's word
        self.born = born

    def make(self, state: ContainerState) -> None:
        """Make the directories; limits are set once the init exists.

        Without real root (rootless) a cgroup the host will not let us make
        is done without, as runc does, unless linux.resources sets limits.
        """
        assert self.manager is not None
        state.cgroup_paths = self.manager.paths()
        state.save()  # first: a create killed while making them still knows what to remove
        try:
            self.manager.create()
        except HostError as exc:
            if not self.rootless:
                raise
            limits = sorted(k for k, v in self.resources.items() if v and k != "devices")
            if limits:
                raise HostError(
                    f"{exc}: a rootless container gets no cgroup here, so linux.resources "
                    f"({', '.join(limits)}) cannot be enforced; delegate a cgroup to this user "
                    "or drop the limits"
                ) from exc
            self.manager.destroy()  # whatever part was made
            self.manager = None
            state.cgroup_paths = {}
            state.save()

    def set_limits(self) -> None:
        if self.manager is not None:
            self.manager.set(self.resources)


def drive(
    state: ContainerState,
    spec: Spec,
    chan: channel.Channel,
    child: int,
    cgroup: Cgroup,
    joined: bool,
) -> None:
    """Walk the init processes through setup, answering what they ask, until
    the init goes on to wait for ``start`` ("waiting").

    The cgroup's limits are set once the init exists, while it mounts (runc
    sets them at that point too); it waits for "cgroup" before it makes
    device nodes or mounts cgroups.
    """
    ready = False
    while True:
        try:
            word, arg = chan.recv()
        except channel.ChannelClosed:
            raise HostError(_silent_death(child if child == state.pid else 0, ready)) from None
        if word == "error":
            raise HostError(arg)
        if word == "userns":
            _write_id_maps(child, spec)
            chan.send("mapped")
        elif word == "pid":
            init_born(state, chan, int(arg), cgroup, joined)
        elif word == "createRuntime":
            oci = state.oci_state()
            oci["status"] = "creating"
            for kind in ("prestart", "createRuntime"):
                if kind in spec.hooks:
                    from dockyard.runtime.hooks import run_hooks

                    run_hooks(kind, spec.hooks[kind], oci)
            chan.send("ok", jsonio.dumps_compact(oci))  # still "creating" for the init's hooks
        elif word == "seccomp":  # a listener's descriptor, by its number in the init
            from dockyard.runtime.seccomp_listener import hand_over

            assert spec.linux.seccomp is not None
            oci = state.oci_state()
            oci["status"] = "creating"
            hand_over(spec.linux.seccomp, state.pid, int(arg), oci)
            chan.send("seccompDone")
        elif word == "ready":  # setup done; the user, capabilities and filter follow
            ready = True
        elif word == "waiting":
            return
        else:
            raise HostError(f"unexpected message from container init: {word}")


def _silent_death(init: int, ready: bool) -> str:
    """What to say of an init that died without a word; ``init`` is its pid
    when it is our child (0: not ours to wait for), ``ready`` whether it had
    reached its last steps (user, capabilities, seccomp filter)."""
    when = "in its last steps before exec" if ready else "during setup"
    why = f"container init exited {when} without saying why"
    if not init:
        return why
    try:
        _, status = posix.waitpid(init, 0)
    except ChildProcessError:
        return why
    if not posix.WIFSIGNALED(status):
        return f"container init exited {when} with status {posix.WEXITSTATUS(status)}"
    signum = posix.WTERMSIG(status)
    if signum == SIGSYS:
        return (
            f"container init was killed by SIGSYS {when}: a seccomp rule with a KILL or "
            "TRAP action refused one of the calls the runtime makes after the filter"
        )
    return f"container init was killed by signal {signum} {when}"


def init_born(
    state: ContainerState,
    chan: channel.Channel,
    pid: int,
    cgroup: Cgroup,
    joined: bool,
) -> None:
    """The init exists: record it, set the cgroup's limits while it mounts, and
    tell it ("cgroup") that it may mount cgroups and make device nodes."""
    state.pid = pid
    started = proc.start_time(pid)
    if started is None:
        raise HostError("container init exited during setup")
    state.init_start_time = started
    if not joined and cgroup.manager is not None:
        _move(state, chan, cgroup.manager)
    cgroup.set_limits()
    try:
        chan.send("cgroup")
    except channel.ChannelClosed:
        pass  # the init failed meanwhile; its error is waiting to be read
    if cgroup.born is not None:
        cgroup.born(pid)
    state.save()  # with the pid, while the init mounts


def _move(state: ContainerState, chan: channel.Channel, manager: CgroupManager) -> None:
    """Put the init into its cgroup (it mounts meanwhile)."""
    try:
        manager.apply(state.pid)
    except DockyardError:
        if proc.is_alive(state.pid, state.init_start_time):
            raise
        # The init died first (a failed mount, say): its reason is the one to tell.
        word, arg = chan.recv()
        raise HostError(arg if word == "error" else "container init exited") from None


def _write_id_maps(pid: int, spec: Spec) -> None:
    for name, mappings in (
        ("uid_map", spec.linux.uid_mappings),
        ("gid_map", spec.linux.gid_mappings),
    ):
        text = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in mappings)
        try:
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(text)
        except OSError as exc:
            raise HostError(f"writing {name} for the user namespace: {exc.strerror}") from exc
