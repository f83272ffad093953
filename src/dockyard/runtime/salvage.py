"""What is left of a container whose state.json cannot be read back whole.

``list`` shows such a container with what can still be read, and
``delete -f`` removes it all the same: it kills the init when its pid and
start time survive, kills and removes the cgroup (the recorded one, else the
one create would have made), and removes the state directory.
"""

from __future__ import annotations

from dockyard.errors import DockyardError, NotFound
from dockyard.linux import fspath
from dockyard.oci import jsonio
from dockyard.runtime.state import STATE_FILE, ContainerState, valid_id

#: the status of a container whose init cannot be identified from what is left
UNKNOWN = "unknown"


def salvage(root: str, container_id: str) -> ContainerState:
    """The state from the members of state.json that still parse (state.json
    writes the small fields first: pid, start time, bundle, cgroup paths)."""
    directory = f"{root}/{valid_id(container_id)}"
    try:
        with open(f"{directory}/{STATE_FILE}", "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise NotFound(f"container {container_id} does not exist") from None
    state = ContainerState.from_doc(
        container_id, directory, jsonio.object_members(data), salvage=True
    )
    state.status = state.current_status() if state.pid and state.init_start_time else UNKNOWN
    return state


def find_cgroup(state: ContainerState) -> None:
    """Fill in the cgroup a salvaged state lost: the one create made from the
    bundle's config.json (or, without one, the default for the id), if it exists."""
    if state.cgroup_paths:
        return
    config = state.config
    if not config and state.bundle:
        try:
            with open(f"{state.bundle}/config.json", "rb") as f:
                config = jsonio.object_members(f.read())
        except OSError:
            config = {}  # the bundle is gone too: look where create puts a cgroup by default
    linux = config.get("linux")
    cgroups_path = linux.get("cgroupsPath") if isinstance(linux, dict) else None
    from dockyard.cgroups.manager import manager_for

    try:
        manager = manager_for(cgroups_path if isinstance(cgroups_path, str) else "", state.id)
    except DockyardError:
        return  # a path create would have refused too: there is no cgroup to find
    state.cgroup_paths = {key: path for key, path in manager.paths().items() if fspath.isdir(path)}
