"""A cgroup tree of plain files under tmp_path that behaves like the kernel's.

It replaces the three seams of ``dockyard.cgroups.fs`` (``_mkdir``, ``_write``,
``_rmdir``): a new directory gets the files the kernel would show, writes with
a kernel side effect (devices, freezer, subtree_control, cgroup.procs) have it,
and rmdir refuses a cgroup with children or processes. Every write is logged.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

NO_LIMIT = "9223372036854771712"
COMMON_V1 = {
    "cgroup.procs": "",
    "tasks": "",
    "cgroup.clone_children": "0",
    "notify_on_release": "0",
}
V1_FILES: dict[str, dict[str, str]] = {
    "cpu": {
        "cpu.shares": "1024",
        "cpu.cfs_period_us": "100000",
        "cpu.cfs_quota_us": "-1",
        "cpu.cfs_burst_us": "0",
        "cpu.rt_period_us": "1000000",
        "cpu.rt_runtime_us": "0",
        "cpu.idle": "0",
        "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
    },
    "cpuacct": {
        "cpuacct.usage": "0",
        "cpuacct.usage_percpu": "0 0 ",
        "cpuacct.usage_percpu_user": "0 0 ",
        "cpuacct.usage_percpu_sys": "0 0 ",
        "cpuacct.stat": "user 0\nsystem 0\n",
    },
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "memory": {
        "memory.limit_in_bytes": NO_LIMIT,
        "memory.memsw.limit_in_bytes": NO_LIMIT,
        "memory.soft_limit_in_bytes": NO_LIMIT,
        "memory.usage_in_bytes": "0",
        "memory.max_usage_in_bytes": "0",
        "memory.failcnt": "0",
        "memory.memsw.usage_in_bytes": "0",
        "memory.memsw.max_usage_in_bytes": "0",
        "memory.memsw.failcnt": "0",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
        "memory.swappiness": "60",
        "memory.stat": "cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0\n",
    },
    "devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n"},
    "freezer": {"freezer.state": "THAWED"},
    "blkio": {
        "blkio.bfq.weight": "100",
        "blkio.bfq.weight_device": "default 100\n",
        "blkio.throttle.read_bps_device": "",
        "blkio.throttle.write_bps_device": "",
        "blkio.throttle.read_iops_device": "",
        "blkio.throttle.write_iops_device": "",
        "blkio.throttle.io_service_bytes_recursive": "Total 0\n",
        "blkio.throttle.io_serviced_recursive": "Total 0\n",
    },
    "pids": {"pids.max": "max", "pids.current": "0"},
    "hugetlb": {
        f"hugetlb.{size}.{knob}": value
        for size in ("2MB", "1GB")
        for knob, value in (
            ("limit_in_bytes", NO_LIMIT),
            ("usage_in_bytes", "0"),
            ("max_usage_in_bytes", "0"),
            ("failcnt", "0"),
        )
    },
    "net_cls": {"net_cls.classid": "0"},
    "net_prio": {"net_prio.ifpriomap": "lo 0\n", "net_prio.prioidx": "1"},
}
V1_ROOT_ONLY = {"cpuset": {"cpuset.cpus": "0-1", "cpuset.mems": "0"}}

V2_CORE = {
    "cgroup.procs": "",
    "cgroup.subtree_control": "",
    "cgroup.freeze": "0",
    "cgroup.events": "populated 0\nfrozen 0\n",
    "cgroup.kill": "",
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
}
V2_FILES: dict[str, dict[str, str]] = {
    "cpu": {
        "cpu.weight": "100",
        "cpu.max": "max 100000",
        "cpu.max.burst": "0",
        "cpu.idle": "0",
    },
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "memory": {
        "memory.max": "max",
        "memory.swap.max": "max",
        "memory.low": "0",
        "memory.current": "0",
        "memory.peak": "0",
        "memory.swap.current": "0",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        "memory.stat": "anon 0\nfile 0\n",
    },
    "pids": {"pids.max": "max", "pids.current": "0"},
    "io": {"io.weight": "default 100", "io.max": "", "io.stat": ""},
    "hugetlb": {
        f"hugetlb.{size}.{knob}": value
        for size in ("2MB", "1GB")
        for knob, value in (
            ("max", "max"),
            ("rsvd.max", "max"),
            ("current", "0"),
            ("events", "max 0\n"),
        )
    },
    "rdma": {"rdma.max": ""},
}
V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma"
V1_HIERARCHIES = (
    "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
    "net_cls,net_prio", "systemd",
)  # fmt: skip


class DeviceCgroup:
    """A v1 devices cgroup as the kernel keeps it (security/device_cgroup.c):
    a default behaviour and an ordered list of exceptions. Modelled here on
    its own, not with the emulator under test, so that the two can disagree.
    """

    def __init__(self, allow_all: bool = True) -> None:
        self.allow_all = allow_all
        self.exceptions: list[list[str]] = []  # [type, major, minor, access]; access a set string

    def copy(self) -> DeviceCgroup:
        child = DeviceCgroup(self.allow_all)
        child.exceptions = [list(entry) for entry in self.exceptions]
        return child

    def write(self, allow: bool, text: str) -> None:
        fields = text.split()
        if fields[0] == "a":  # the rest of the line is ignored
            self.allow_all = allow
            self.exceptions.clear()
            return
        kind, (major, minor), access = fields[0], fields[1].split(":"), fields[2]
        # An allow on a deny-by-default cgroup (or a deny on an allow-by-default
        # one) adds an exception, merged into one with the same key; otherwise
        # it takes access away from that exact key only.
        adds = allow != self.allow_all
        for entry in self.exceptions:
            if entry[:3] == [kind, major, minor]:
                if adds:
                    entry[3] = "".join(c for c in "rwm" if c in entry[3] + access)
                else:
                    entry[3] = "".join(c for c in entry[3] if c not in access)
                    if not entry[3]:
                        self.exceptions.remove(entry)
                return
        if adds:
            self.exceptions.append([kind, major, minor, "".join(c for c in "rwm" if c in access)])

    def listing(self) -> str:
        """devices.list: "a *:* rwm" when all is allowed, else the exceptions in order."""
        if self.allow_all:
            return "a *:* rwm\n"
        return "".join(
            f"{kind} {major}:{minor} {access}\n" for kind, major, minor, access in self.exceptions
        )


class FakeKernel:
    def __init__(self, root: Path, mode: str) -> None:
        self.root = root
        self.mode = mode  # "v1", "hybrid" or "v2"
        self.writes: list[tuple[str, str]] = []
        self.devices: dict[Path, DeviceCgroup] = {}
        if mode == "v2":
            self._build_v2(root, V2_CONTROLLERS)
        else:
            for name in V1_HIERARCHIES:
                self._fill_v1(root / name, name, top=True)
            if mode == "hybrid":
                self._build_v2(root / "unified", "")

    # -- layout

    def _build_v2(self, path: Path, controllers: str) -> None:
        path.mkdir(parents=True)
        for name, value in V2_CORE.items():
            (path / name).write_text(value)
        (path / "cgroup.controllers").write_text(controllers)

    def _fill_v1(self, path: Path, hierarchy: str, top: bool = False) -> None:
        path.mkdir(parents=True, exist_ok=True)
        files = dict(COMMON_V1)
        for controller in hierarchy.split(","):
            for name, value in V1_FILES.get(controller, {}).items():
                if top and controller == "freezer":
                    continue  # the root cgroup cannot be frozen
                files[name] = value
            if top:
                files.update(V1_ROOT_ONLY.get(controller, {}))
        for name, value in files.items():
            (path / name).write_text(value)

    def _v2_add(self, path: Path, controllers: list[str]) -> None:
        for controller in controllers:
            for name, value in V2_FILES.get(controller, {}).items():
                if not (path / name).exists():
                    (path / name).write_text(value)

    def hierarchy(self, path: Path) -> str:
        rel = path.relative_to(self.root)
        return "" if self.mode == "v2" else rel.parts[0]

    # -- the seams

    def mkdir(self, path: str) -> None:
        p = Path(path)
        os.mkdir(p)
        hierarchy = self.hierarchy(p)
        if hierarchy in ("", "unified"):
            for name, value in V2_CORE.items():
                (p / name).write_text(value)
            enabled = (p.parent / "cgroup.subtree_control").read_text().split()
            (p / "cgroup.controllers").write_text(" ".join(enabled))
            self._v2_add(p, enabled)
        else:
            self._fill_v1(p, hierarchy)
            if hierarchy == "devices":  # a new cgroup starts with its parent's rules
                self.devices[p] = self.devices.get(p.parent, DeviceCgroup()).copy()
                (p / "devices.list").write_text(self.devices[p].listing())

    def write(self, path: str, data: bytes) -> None:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        text = data.decode()
        self.writes.append((str(p.relative_to(self.root)), text))
        name = p.name
        if name in ("cgroup.procs", "tasks"):
            p.write_text(p.read_text() + text.strip() + "\n")
        elif name in ("devices.allow", "devices.deny"):
            self._device_write(p.parent, name == "devices.allow", text)
        elif name == "freezer.state":
            p.write_text(text.strip())
        elif name == "cgroup.freeze":
            p.write_text(text.strip())
            (p.parent / "cgroup.events").write_text(f"populated 0\nfrozen {text.strip()}\n")
        elif name == "cgroup.subtree_control":
            self._subtree_write(p.parent, text)
        elif name == "cpu.shares":
            p.write_text(str(min(max(int(text), 2), 262144)))  # the kernel clamps
        elif name in ("io.max", "net_prio.ifpriomap", "rdma.max") or name.endswith("_device"):
            p.write_text(p.read_text() + text + "\n")  # keyed files keep other keys
        else:
            p.write_text(text)

    def _device_write(self, directory: Path, allow: bool, text: str) -> None:
        cgroup = self.devices.setdefault(directory, DeviceCgroup())
        cgroup.write(allow, text)
        (directory / "devices.list").write_text(cgroup.listing())

    def _subtree_write(self, directory: Path, text: str) -> None:
        available = (directory / "cgroup.controllers").read_text().split()
        enabled = (directory / "cgroup.subtree_control").read_text().split()
        for token in text.split():
            name = token[1:]
            if name not in available:
                raise OSError(errno.EINVAL, "Invalid argument")
            if token[0] == "+" and name not in enabled:
                enabled.append(name)
            elif token[0] == "-" and name in enabled:
                enabled.remove(name)
        (directory / "cgroup.subtree_control").write_text(" ".join(enabled))
        for child in directory.iterdir():
            if child.is_dir():
                (child / "cgroup.controllers").write_text(" ".join(enabled))
                self._v2_add(child, enabled)

    def rmdir(self, path: str) -> None:
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        if any(c.is_dir() for c in p.iterdir()) or (p / "cgroup.procs").read_text().strip():
            raise OSError(errno.EBUSY, "Device or resource busy", path)
        for child in p.iterdir():
            child.unlink()
        p.rmdir()

    # -- for assertions

    def read(self, relative: str) -> str:
        return (self.root / relative).read_text().strip()

    def written(self, name: str) -> list[str]:
        """Every value written to files called ``name``, in order."""
        return [text for path, text in self.writes if Path(path).name == name]


MakeKernel = Callable[[str], FakeKernel]
