"""``delete``: kill what is left of a container, run its poststop hooks, remove its state."""

from __future__ import annotations

from dockyard.errors import Conflict, DamagedState, HostError, NotFound
from dockyard.linux import proc
from dockyard.runtime.hooks import spec_hooks
from dockyard.runtime.kill import signal_all
from dockyard.runtime.signals import SIGKILL
from dockyard.runtime.state import CREATING, STOPPED, ContainerState, Lock, remove_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.runtime.hooks import Warn


def delete(root: str, container_id: str, force: bool, warn: Warn) -> None:
    try:
        with Lock(root, container_id):
            _delete(root, container_id, force, warn)
    except NotFound:
        if force:
            return  # as runc: the goal (no such container) is reached; podman relies on it
        raise


def _delete(root: str, container_id: str, force: bool, warn: Warn) -> None:
    try:
        state = ContainerState.load(root, container_id)
    except DamagedState:
        if not force:
            raise
        from dockyard.runtime.salvage import find_cgroup, salvage

        state = salvage(root, container_id)  # and remove what is left, whatever is lost
        find_cgroup(state)
        destroy(state, warn)
        return
    if state.status == CREATING:
        if not force:
            raise Conflict(
                f"container {container_id} is still being created (or its create was killed); "
                "use delete -f to remove what is left"
            )
    elif not force:
        state.require("delete")
    destroy(state, warn)


def destroy(state: ContainerState, warn: Warn | None) -> None:
    """Undo a create: kill every process, run poststop hooks, remove the state.

    Used by ``delete`` and by a ``create`` that failed part-way (the spec's
    lifecycle continues at "destroy" when a create-time hook fails).
    """
    signal_all(state, SIGKILL)  # the cgroup's, outside the init's pid namespace too
    if state.pid:
        proc.send_signal(state.pid, state.init_start_time, SIGKILL)  # even outside its cgroup
        if not proc.wait_for_exit(state.pid, state.init_start_time, 10):
            raise HostError(f"container {state.id}: init did not exit after SIGKILL")
    if state.cgroup_paths:
        from dockyard.cgroups.manager import manager_from_paths

        manager_from_paths(state.cgroup_paths).destroy()
    state.status = STOPPED
    poststop = spec_hooks(state.config, "poststop") if state.pid else []
    if poststop:
        from dockyard.runtime.hooks import run_hooks_warn

        run_hooks_warn("poststop", poststop, state.oci_state(), warn or (lambda message: None))
    remove_dir(state.dir)
