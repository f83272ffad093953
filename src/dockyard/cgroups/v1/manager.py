"""The cgroup v1 backend, hybrid hosts included: a directory per hierarchy.

Resource work goes to the controllers' hierarchies; the named hierarchies
(name=systemd) and a hybrid host's empty cgroup2 tree ("" key) only get the
directory and the process, so that /proc/<pid>/cgroup is consistent.
"""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.cgroups.manager import CgroupManager, hierarchy_root
from dockyard.cgroups.v1.cpuset import inherit
from dockyard.errors import HostError, InvalidSpec, Unsupported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FREEZE_TIMEOUT = 5.0
SIGKILL = 9


class V1Manager(CgroupManager):
    __slots__ = ("_roots", "dirs")

    def __init__(self, dirs: dict[str, str], roots: dict[str, str] | None = None) -> None:
        self.dirs = dirs
        self._roots = roots

    def _unique(self) -> list[str]:
        return list(dict.fromkeys(self.dirs.values()))

    def _dir(self, key: str) -> str:
        return self.dirs.get(key, "")

    def paths(self) -> dict[str, str]:
        return dict(self.dirs)

    # -- lifecycle

    def create(self) -> None:
        for path in self._unique():
            fs.make_dirs(path)
        cpuset = self._dir("cpuset")
        if cpuset:
            roots = self._roots or {}
            inherit(roots.get("cpuset") or hierarchy_root(cpuset), cpuset)

    def apply(self, pid: int) -> None:
        for path in self._unique():
            fs.move(path, pid)

    def set(self, resources: dict[str, Any]) -> None:
        if not resources:
            return
        if not isinstance(resources, dict):
            raise InvalidSpec(values.PREFIX, "must be an object")
        if resources.get("unified"):
            raise Unsupported(
                f"{values.PREFIX}.unified: cgroup v2 files cannot be set on a cgroup v1 host "
                "(runc refuses this too); use the v1 fields of linux.resources"
            )
        cpu = values.section(resources, "cpu")
        if cpu:
            from dockyard.cgroups.v1 import cpuset

            cpuset.set(self._dir("cpuset"), cpu)
        if "devices" in resources:
            from dockyard.cgroups import devices
            from dockyard.cgroups.v1 import devices as v1_devices

            v1_devices.set(self._dir("devices"), devices.parse_rules(resources["devices"]))
        memory = values.section(resources, "memory")
        if memory:
            from dockyard.cgroups.v1 import memory as v1_memory

            v1_memory.set(self._dir("memory"), memory)
        if cpu:
            from dockyard.cgroups.v1 import cpu as v1_cpu

            v1_cpu.set(self._dir("cpu"), cpu)
        pids = values.section(resources, "pids")
        if pids:
            from dockyard.cgroups.v1 import pids as v1_pids

            v1_pids.set(self._dir("pids"), pids)
        blkio = values.section(resources, "blockIO")
        if blkio:
            from dockyard.cgroups.v1 import blkio as v1_blkio

            v1_blkio.set(self._dir("blkio"), blkio)
        hugepages = values.items(resources, "hugepageLimits")
        if hugepages:
            from dockyard.cgroups.v1 import hugetlb

            hugetlb.set(self._dir("hugetlb"), hugepages)
        network = values.section(resources, "network")
        if network:
            from dockyard.cgroups.v1 import net

            net.set(self._dir("net_cls"), self._dir("net_prio"), network)
        rdma = values.section(resources, "rdma")
        if rdma:
            from dockyard.cgroups import rdma as rdma_controller

            rdma_controller.set(self._dir("rdma"), rdma)

    def destroy(self) -> None:
        left = fs.remove_trees(self._unique())
        if left and self.procs():
            self.kill_all(SIGKILL)
            left = fs.remove_trees(left, timeout=5.0)
        if left:
            raise HostError(f"cannot remove cgroups {', '.join(left)}: still busy")

    # -- processes

    def procs(self) -> list[int]:
        # Every process is in one cgroup of each hierarchy, so one hierarchy
        # lists them all: the freezer's, the one kill_all and pause act on.
        found: set[int] = set()
        representative = self._dir("freezer") or self._dir("pids")
        for path in [representative] if representative else self._unique():
            fs.procs_recursive(path, found)
        return sorted(found)

    def _freezer(self) -> str:
        freezer = self._dir("freezer")
        if not freezer:
            raise Unsupported("this host has no freezer cgroup controller mounted")
        return freezer

    def freeze(self) -> None:
        freezer = self._freezer()

        def frozen() -> bool:
            state = fs.read_or(freezer, "freezer.state")
            if state == "FREEZING":  # a task resisted: ask again, as runc does
                fs.write(freezer, "freezer.state", "FROZEN", "freezer.state")
            return state == "FROZEN"

        fs.write(freezer, "freezer.state", "FROZEN", "freezer.state")
        if not fs.wait_for(frozen, FREEZE_TIMEOUT):
            self.thaw()
            raise HostError(f"cgroup {freezer} did not freeze within {FREEZE_TIMEOUT:g}s")

    def thaw(self) -> None:
        freezer = self._freezer()
        fs.write(freezer, "freezer.state", "THAWED", "freezer.state")
        fs.wait_for(lambda: fs.read_or(freezer, "freezer.state") == "THAWED", FREEZE_TIMEOUT)

    def is_frozen(self) -> bool:
        freezer = self._dir("freezer")
        return bool(freezer) and fs.read_or(freezer, "freezer.state") == "FROZEN"

    def kill_all(self, signal: int) -> None:
        if not self.procs():
            return  # nothing to signal (or the cgroup is gone already)
        if not self._dir("freezer"):
            fs.signal_until_gone(self.procs, signal)
            return
        was_frozen = self.is_frozen()
        if not was_frozen:
            self.freeze()  # nothing forks between the listing and the signals
        try:
            fs.signal_all(self.procs, signal)
        finally:
            if not was_frozen or signal == SIGKILL:
                self.thaw()

    # -- figures

    def stats(self) -> dict[str, Any]:
        from dockyard.cgroups.v1 import blkio, cpu, hugetlb, memory, pids

        out: dict[str, Any] = {
            "cpu": cpu.stats(self._dir("cpu"), self._dir("cpuacct")),
            "memory": memory.stats(self._dir("memory")),
            "pids": pids.stats(self._dir("pids")),
            "blkio": blkio.stats(self._dir("blkio")),
            "hugetlb": hugetlb.stats(self._dir("hugetlb")),
        }
        return out

    def oom_kill_count(self) -> int:
        memory = self._dir("memory")
        if not memory:
            return 0
        return fs.read_keyed(memory, "memory.oom_control").get("oom_kill", 0)
