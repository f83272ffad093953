"""The cgroup v2 backend: one directory in the unified tree.

``create`` makes the directory and enables, in each ancestor's
cgroup.subtree_control, every controller the ancestor has (runc does the
same), so the container's directory gets the files its resources need.
"""

from __future__ import annotations

from dockyard.cgroups import fs, values
from dockyard.cgroups.manager import CgroupManager, hierarchy_root
from dockyard.errors import HostError, InvalidSpec, Unsupported
from dockyard.linux import fspath

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FREEZE_TIMEOUT = 5.0
NO_FREEZER = "this kernel has no cgroup v2 freezer (cgroup.freeze needs Linux 5.2)"
SIGKILL = 9


class V2Manager(CgroupManager):
    __slots__ = ("_root", "path")

    def __init__(self, path: str, root: str = "") -> None:
        self.path = path
        self._root = root

    def paths(self) -> dict[str, str]:
        return {"": self.path}

    # -- lifecycle

    def create(self) -> None:
        fs.make_dirs(self.path)
        root = self._root or hierarchy_root(self.path)
        relative = fspath.relpath(self.path, root)
        if relative.startswith(".."):
            return
        current = root
        for part in [p for p in relative.split("/") if p not in ("", ".")]:
            _enable_controllers(current)
            current = f"{current}/{part}"

    def apply(self, pid: int) -> None:
        fs.move(self.path, pid)

    def set(self, resources: dict[str, Any]) -> None:
        if not resources:
            return
        if not isinstance(resources, dict):
            raise InvalidSpec(values.PREFIX, "must be an object")
        available = set(fs.read_or(self.path, "cgroup.controllers").split())

        def where(controller: str) -> str:
            return self.path if controller in available else ""

        cpu = values.section(resources, "cpu")
        if cpu:
            from dockyard.cgroups.v2 import cpuset

            cpuset.set(where("cpuset"), cpu)
        if "devices" in resources:
            from dockyard.cgroups import devices
            from dockyard.cgroups.v2 import devices as v2_devices

            v2_devices.set(self.path, devices.parse_rules(resources["devices"]))
        memory = values.section(resources, "memory")
        if memory:
            from dockyard.cgroups.v2 import memory as v2_memory

            v2_memory.set(where("memory"), memory)
        if cpu:
            from dockyard.cgroups.v2 import cpu as v2_cpu

            v2_cpu.set(where("cpu"), cpu)
        pids = values.section(resources, "pids")
        if pids:
            from dockyard.cgroups.v2 import pids as v2_pids

            v2_pids.set(where("pids"), pids)
        blkio = values.section(resources, "blockIO")
        if blkio:
            from dockyard.cgroups.v2 import io

            io.set(where("io"), blkio)
        hugepages = values.items(resources, "hugepageLimits")
        if hugepages:
            from dockyard.cgroups.v2 import hugetlb

            hugetlb.set(where("hugetlb"), hugepages)
        network = values.section(resources, "network")
        if network and (network.get("classID") is not None or network.get("priorities")):
            raise Unsupported(
                f"{values.PREFIX}.network: cgroup v2 has no net_cls or net_prio controller; "
                "classify traffic with an eBPF or nftables rule on the cgroup instead"
            )
        rdma = values.section(resources, "rdma")
        if rdma:
            from dockyard.cgroups import rdma as rdma_controller

            rdma_controller.set(where("rdma"), rdma)
        unified = values.section(resources, "unified")
        if unified:
            from dockyard.cgroups.v2 import unified as v2_unified

            v2_unified.set(self.path, unified, available)

    def destroy(self) -> None:
        left = fs.remove_trees([self.path])
        if left and self.procs():
            self.kill_all(SIGKILL)
            left = fs.remove_trees(left, timeout=5.0)
        if left:
            raise HostError(f"cannot remove cgroup {self.path}: still busy")

    # -- processes

    def procs(self) -> list[int]:
        found: set[int] = set()
        fs.procs_recursive(self.path, found)
        return sorted(found)

    def _events_frozen(self) -> bool:
        return fs.read_keyed(self.path, "cgroup.events").get("frozen") == 1

    def freeze(self) -> None:
        if not fs.exists(self.path, "cgroup.freeze"):
            raise Unsupported(NO_FREEZER)
        fs.write(self.path, "cgroup.freeze", "1", "cgroup.freeze")
        if not fs.wait_for(self._events_frozen, FREEZE_TIMEOUT):
            self.thaw()
            raise HostError(f"cgroup {self.path} did not freeze within {FREEZE_TIMEOUT:g}s")

    def thaw(self) -> None:
        if not fs.exists(self.path, "cgroup.freeze"):
            raise Unsupported(NO_FREEZER)
        fs.write(self.path, "cgroup.freeze", "0", "cgroup.freeze")
        fs.wait_for(lambda: not self._events_frozen(), FREEZE_TIMEOUT)

    def is_frozen(self) -> bool:
        return fs.read_or(self.path, "cgroup.freeze") == "1"

    def kill_all(self, signal: int) -> None:
        if not self.procs():
            return  # nothing to signal (or the cgroup is gone already)
        if signal == SIGKILL and fs.write_quiet(self.path, "cgroup.kill", "1"):
            return  # the kernel kills the whole subtree at once (Linux 5.14+)
        if not fs.exists(self.path, "cgroup.freeze"):
            fs.signal_until_gone(self.procs, signal)
            return
        was_frozen = self.is_frozen()
        if not was_frozen:
            self.freeze()
        try:
            fs.signal_all(self.procs, signal)
        finally:
            if not was_frozen or signal == SIGKILL:
                self.thaw()

    # -- figures

    def stats(self) -> dict[str, Any]:
        from dockyard.cgroups.v2 import cpu, hugetlb, io, memory, pids

        return {
            "cpu": cpu.stats(self.path),
            "memory": memory.stats(self.path),
            "pids": pids.stats(self.path),
            "blkio": io.stats(self.path),
            "hugetlb": hugetlb.stats(self.path),
        }

    def oom_kill_count(self) -> int:
        return fs.read_keyed(self.path, "memory.events").get("oom_kill", 0)


def _enable_controllers(directory: str) -> None:
    """Turn on, for the children of ``directory``, every controller it has."""
    available = fs.read_or(directory, "cgroup.controllers").split()
    enabled = fs.read_or(directory, "cgroup.subtree_control").split()
    missing = [c for c in available if c not in enabled]
    if not missing:
        return
    if fs.write_quiet(directory, "cgroup.subtree_control", " ".join(f"+{c}" for c in missing)):
        return
    for controller in missing:  # one by one: some may be refused (e.g. busy with threads)
        fs.write_quiet(directory, "cgroup.subtree_control", f"+{controller}")
