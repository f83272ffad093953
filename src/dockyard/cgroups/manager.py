"""The one interface to control groups, and how a container's cgroup is found.

``manager_for`` looks at the cgroup root to pick a backend:

- v2 (unified): ``<root>/cgroup.controllers`` exists; one tree, ``paths()`` has the key "".
- v1 and hybrid: one hierarchy per mounted controller (``<root>/memory``...),
  plus ``<root>/systemd`` (name=systemd) and, on hybrid hosts, an empty cgroup2
  at ``<root>/unified``. The v1 controllers do the resource work; the
  container gets the same path in every hierarchy, the named and the unified
  one included, so that its /proc/self/cgroup reads consistently (as runc does).

The container's path follows runc's cgroupfs driver for ``linux.cgroupsPath``:
absolute paths start at each hierarchy's root, relative ones at the runtime
process's own cgroup in that hierarchy, and an empty one is the container id,
relative: ``<runtime's own cgroup>/<id>``, as runc does. Expected call order
at create: ``manager_for``, ``create()``, ``set(resources)``, ``apply(pid)``,
then store ``paths()``.
"""

from __future__ import annotations

import posix

from dockyard.errors import InvalidSpec, Unsupported
from dockyard.linux import fspath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FIELD = "linux.cgroupsPath"

#: v1 controllers a hierarchy's directory name may list ("cpu,cpuacct"); any
#: other directory holding cgroup.procs is a named hierarchy ("name=<dir>").
V1_CONTROLLERS = frozenset(
    (
        "blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory",
        "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma",
    )
)  # fmt: skip


class CgroupManager:
    """A container's cgroup in every hierarchy the host has. Backends subclass this."""

    __slots__ = ()

    def create(self) -> None:
        """Make the cgroup directories (all hierarchies); idempotent."""
        raise NotImplementedError

    def apply(self, pid: int) -> None:
        """Move ``pid`` into the cgroup in every hierarchy.

        The kernel makes the first move of a burst wait for an RCU grace period
        (cgroup_threadgroup_rwsem): 5-30 ms on slow VMs, whatever the caller does.
        On v2, clone3(CLONE_INTO_CGROUP) would start the process there instead.
        """
        raise NotImplementedError

    def set(self, resources: dict[str, Any]) -> None:
        """Apply OCI ``linux.resources`` (the raw config.json dict).

        Raises InvalidSpec naming the field for a bad value, Unsupported for
        what this host cannot do. Device rules are programmed exactly as given
        (see ``devices.container_resources`` for runc's default rules).
        """
        raise NotImplementedError

    def paths(self) -> dict[str, str]:
        """Controller name -> absolute directory ("" for the v2 unified one)."""
        raise NotImplementedError

    def procs(self) -> list[int]:
        """Every pid in the cgroup and the cgroups below it, sorted."""
        raise NotImplementedError

    def freeze(self) -> None:
        raise NotImplementedError

    def thaw(self) -> None:
        raise NotImplementedError

    def is_frozen(self) -> bool:
        raise NotImplementedError

    def kill_all(self, signal: int) -> None:
        """Signal every process in the cgroup, beating fork races."""
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """Usage figures in the shape of ``runc events --stats``'s "data"."""
        raise NotImplementedError

    def oom_kill_count(self) -> int:
        raise NotImplementedError

    def destroy(self) -> None:
        """Remove every directory this cgroup has (deepest first); idempotent."""
        raise NotImplementedError


def container_path(cgroups_path: str, container_id: str) -> tuple[bool, list[str]]:
    """(absolute?, path components) of the container's cgroup, ".." resolved.

    Raises InvalidSpec for paths that climb out of their start, Unsupported
    for the systemd driver's "slice:prefix:name" form.
    """
    if not cgroups_path:
        if not container_id or "/" in container_id or container_id in (".", ".."):
            raise InvalidSpec("id", f"container id {container_id!r} cannot name a cgroup")
        cgroups_path = container_id  # relative: under our own cgroup, as runc does
    if "\0" in cgroups_path:
        raise InvalidSpec(FIELD, "must not contain NUL")
    if not cgroups_path.startswith("/") and cgroups_path.count(":") == 2:
        raise Unsupported(
            f"{FIELD}: {cgroups_path!r} is in the systemd driver's slice:prefix:name form; "
            "Dockyard manages cgroups through cgroupfs, give a path such as /containers/<id>"
        )
    parts: list[str] = []
    for part in cgroups_path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidSpec(FIELD, f"{cgroups_path!r} climbs out of its cgroup hierarchy")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise InvalidSpec(FIELD, f"{cgroups_path!r} names the hierarchy root, not a new cgroup")
    return cgroups_path.startswith("/"), parts


def own_cgroups(proc_self_cgroup: str = "/proc/self/cgroup") -> dict[str, str]:
    """This process's cgroup per hierarchy: "memory" / "cpu,cpuacct" / "name=systemd" / ""."""
    found: dict[str, str] = {}
    try:
        with open(proc_self_cgroup) as f:
            text = f.read()
    except OSError:
        return found
    for line in text.splitlines():
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        found[controllers] = path
        for name in controllers.split(","):
            found.setdefault(name, path)
    return found


def _join(root: str, base: str, parts: list[str]) -> str:
    segments = [p for p in base.split("/") if p] + parts
    return "/".join([root.rstrip("/"), *segments])


def v1_hierarchies(cgroup_root: str) -> list[tuple[list[str], str]]:
    """(keys, mount directory) of each v1 hierarchy under ``cgroup_root``."""
    found = []
    try:
        with posix.scandir(cgroup_root) as entries:  # d_type: no lstat per name
            names = sorted(e.name for e in entries if not e.is_symlink())
    except FileNotFoundError:
        return []
    for name in names:
        path = f"{cgroup_root}/{name}"
        if name == "unified" or not fspath.exists(f"{path}/cgroup.procs"):
            continue
        controllers = name.split(",")
        if all(c in V1_CONTROLLERS for c in controllers):
            found.append((controllers, path))
        else:
            found.append(([f"name={name}"], path))
    return found


def manager_for(
    cgroups_path: str,
    container_id: str,
    cgroup_root: str = "/sys/fs/cgroup",
    proc_self_cgroup: str = "/proc/self/cgroup",
) -> CgroupManager:
    """The manager for a container's cgroup on this host (nothing is created yet)."""
    absolute, parts = container_path(cgroups_path, container_id)
    own = {} if absolute else own_cgroups(proc_self_cgroup)
    if fspath.exists(f"{cgroup_root}/cgroup.controllers"):
        from dockyard.cgroups.v2.manager import V2Manager

        return V2Manager(_join(cgroup_root, own.get("", ""), parts), cgroup_root)
    hierarchies = v1_hierarchies(cgroup_root)
    if not hierarchies:
        raise Unsupported(f"no cgroup hierarchy is mounted at {cgroup_root}")
    from dockyard.cgroups.v1.manager import V1Manager

    dirs: dict[str, str] = {}
    roots: dict[str, str] = {}
    for keys, mount in hierarchies:
        base = own.get(",".join(keys)) or own.get(keys[0], "")
        path = _join(mount, base, parts)
        for key in keys:
            dirs[key] = path
            roots[key] = mount
    unified = f"{cgroup_root}/unified"
    if fspath.exists(f"{unified}/cgroup.controllers"):
        dirs[""] = _join(unified, own.get("", ""), parts)
        roots[""] = unified
    return V1Manager(dirs, roots)


def hierarchy_root(path: str) -> str:
    """The top of the hierarchy ``path`` is in: the last ancestor holding cgroup.procs."""
    root = path
    parent = fspath.dirname(path)
    while parent != root and fspath.exists(f"{parent}/cgroup.procs"):
        root, parent = parent, fspath.dirname(parent)
    return root


def manager_from_paths(paths: dict[str, str]) -> CgroupManager:
    """Rebuild a manager from what ``paths()`` returned (state.json) for later verbs."""
    if not paths:
        raise Unsupported("the container has no cgroup recorded")
    if set(paths) == {""}:
        from dockyard.cgroups.v2.manager import V2Manager

        return V2Manager(paths[""])
    from dockyard.cgroups.v1.manager import V1Manager

    return V1Manager(dict(paths))
