"""``info`` and ``version``: the engine's facts in the shape of Docker's Engine API answers.

`system_info` is ``GET /info`` (``docker info``, docker-py's ``client.info()``):
the keys Docker has, filled where they mean something here and with
Docker's empty values where they do not (swarm, plugins we lack).
`server_version` is ``GET /version``'s. There is no daemon: the "server" is
this process, so its facts are the library's and the host's.
"""

from __future__ import annotations

import posix

from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine

API_VERSION = "1.43"
MIN_API_VERSION = "1.12"
RUNTIME_BINARIES = ("runc", "crun")
#: Docker's names for the filesystem under its root (its graphdriver's FsMagic names)
BACKING_FS = {"ext2": "extfs", "ext3": "extfs", "ext4": "extfs", "overlay": "overlayfs"}
#: Python's machine names as Go's GOARCH spells them
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def go_arch(machine: str = "") -> str:
    machine = machine or posix.uname().machine
    return GOARCH.get(machine, machine)


def _os_release() -> str:
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    key, _, value = line.strip().partition("=")
                    if key == "PRETTY_NAME":
                        return value.strip().strip('"')
        except OSError:
            continue
    return "Linux"


def _os_version() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key == "VERSION_ID":
                    return value.strip().strip('"')
    except OSError:
        pass
    return ""


def backing_filesystem(path: str) -> str:
    """The type of the filesystem ``path`` is on (the longest mount point above it)."""
    best, kind = "", ""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        try:
            point = fields[4].replace("\\040", " ")
            fstype = fields[fields.index("-") + 1]
        except (IndexError, ValueError):
            continue
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return BACKING_FS.get(kind, kind)


def _memory_total() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cgroup_version() -> str:
    return "2" if posix.access("/sys/fs/cgroup/cgroup.controllers", posix.F_OK) else "1"


def runtimes() -> dict[str, dict[str, str]]:
    """``--runtime`` choices found on this host: ours (in-process) and runc-likes on PATH."""
    from dockyard.engine.runtime_client import _runtime_command

    found = {"dockyard": {"path": _runtime_command()}}
    for directory in (posix.environ.get(b"PATH") or b"/usr/sbin:/usr/bin:/sbin:/bin").split(b":"):
        for name in RUNTIME_BINARIES:
            candidate = f"{directory.decode()}/{name}"
            if name not in found and posix.access(candidate, posix.X_OK):
                found[name] = {"path": candidate}
    return dict(sorted(found.items()))


def _counts(engine: Engine) -> dict[str, int]:
    from dockyard.engine.exits import current_status

    running = paused = stopped = 0
    records = engine.containers.all()
    for rec in records:
        status = current_status(engine, rec)
        if status == Status.PAUSED:
            paused += 1
        elif status in (Status.RUNNING, Status.RESTARTING):
            running += 1
        else:
            stopped += 1
    return {
        "Containers": len(records),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": stopped,
    }


def system_info(engine: Engine, debug: bool = False) -> dict[str, Any]:
    """Docker's ``GET /info``, key for key."""
    from dockyard import __version__

    store = engine.images.store
    driver = store.snapshots.driver
    root = engine.paths.root
    uname = posix.uname()
    v2 = cgroup_version() == "2"
    security = ["name=seccomp,profile=builtin"] + (["name=cgroupns"] if v2 else [])
    if posix.geteuid() != 0:
        security.append("name=rootless")
    return {
        "ID": "",
        **_counts(engine),
        "Images": len(store.images.all()),
        "Driver": "overlay" if driver == "overlay" else driver,
        "DriverStatus": [
            ["Backing Filesystem", backing_filesystem(root)],
            ["Supports d_type", "true"],
        ],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["host", "null"],
            "Authorization": None,
            "Log": ["json-file", "none"],
        },
        "MemoryLimit": True,
        "SwapLimit": posix.access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", 0) or v2,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "IPv4Forwarding": True,
        "Debug": debug,
        "NFd": len(posix.listdir("/proc/self/fd")),
        "OomKillDisable": not v2,
        "NGoroutines": 1,
        "SystemTime": _now(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version(),
        "NEventsListener": 0,
        "KernelVersion": uname.release,
        "OperatingSystem": _os_release(),
        "OSVersion": _os_version(),
        "OSType": "linux",
        "Architecture": uname.machine,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "IndexConfigs": {},
            "Mirrors": [],
        },
        "NCPU": posix.cpu_count() or 1,
        "MemTotal": _memory_total(),
        "DockerRootDir": root,
        "HttpProxy": _env("HTTP_PROXY"),
        "HttpsProxy": _env("HTTPS_PROXY"),
        "NoProxy": _env("NO_PROXY"),
        "Name": uname.nodename,
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": __version__,
        "Runtimes": runtimes(),
        "DefaultRuntime": "dockyard",
        "LiveRestoreEnabled": True,  # no daemon: containers always outlive the CLI
        "Isolation": "",
        "InitBinary": _init_binary(),
        "SecurityOptions": security,
        "Warnings": [],
        "InsecureRegistries": list(engine.insecure),
    }


def _init_binary() -> str:
    """What ``--init`` runs as pid 1 (Debian's tini), "" when there is none."""
    from dockyard.engine.init_binary import find
    from dockyard.errors import DockyardError

    try:
        return find()
    except DockyardError:
        return ""


def _env(name: str) -> str:
    raw = posix.environ.get(name.encode()) or posix.environ.get(name.lower().encode()) or b""
    return raw.decode(errors="replace")


def _now() -> str:
    from dockyard.engine.clock import rfc3339_now

    return rfc3339_now()


def server_version() -> dict[str, Any]:
    """Docker's ``GET /version``: the engine and its components."""
    import platform

    from dockyard import OCI_VERSION, __version__

    uname = posix.uname()
    components: list[dict[str, Any]] = [
        {
            "Name": "Engine",
            "Version": __version__,
            "Details": {
                "ApiVersion": API_VERSION,
                "Arch": go_arch(),
                "Experimental": "false",
                "KernelVersion": uname.release,
                "MinAPIVersion": MIN_API_VERSION,
                "Os": "linux",
                "PythonVersion": platform.python_version(),
            },
        },
        {
            "Name": "dockyard-runtime",
            "Version": __version__,
            "Details": {"OCISpec": OCI_VERSION},
        },
    ]
    for name, where in runtimes().items():
        if name == "dockyard":
            continue
        version = _runtime_version(where["path"])
        if version:
            components.append({"Name": name, "Version": version, "Details": {}})
    return {
        "Platform": {"Name": "Dockyard"},
        "Components": components,
        "Version": __version__,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": go_arch(),
        "KernelVersion": uname.release,
        "BuildTime": "",
    }


def _runtime_version(path: str) -> str:
    """The first line's version of ``RUNTIME --version`` ("runc version 1.1.5")."""
    import subprocess

    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = done.stdout.splitlines()[0].split() if done.stdout else []
    return words[-1] if words else ""
