"""A container record -> the runtime spec (config.json) of its bundle, with Docker's defaults.

The record holds the merged image config and every run option; this module
turns them into the OCI document a runc-compatible runtime runs: the
process (args, env, user, capabilities, rlimits), the mounts (the standard
ones, the engine's /etc files, the user's binds, volumes and tmpfs), the
namespaces each ``--*`` mode asks for, the cgroup resources, sysctls,
devices and seccomp. Nothing here touches the filesystem except reading a
device node's numbers for ``--device`` and finding the init for ``--init``.
"""

from __future__ import annotations

import posix

from dockyard import OCI_VERSION
from dockyard.engine import spec_defaults as defaults
from dockyard.engine import spec_resources
from dockyard.engine.image_user import ProcessUser
from dockyard.engine.types import ContainerRecord, DeviceMapping, MountPoint
from dockyard.errors import InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CGROUP_PARENT = "/dockyard"
ETC_FILES = ("/etc/resolv.conf", "/etc/hostname", "/etc/hosts")
_S_IFMT, _S_IFCHR, _S_IFBLK, _S_IFDIR = 0o170000, 0o020000, 0o060000, 0o040000


def process_args(rec: ContainerRecord) -> list[str]:
    args = list(rec.config.entrypoint or []) + list(rec.config.cmd or [])
    if not args:
        raise InvalidArgument("no command specified")
    return args


def process_env(rec: ContainerRecord, user: ProcessUser) -> list[str]:
    """Docker's order: PATH, HOSTNAME, TERM (with -t), then the container's Env; HOME last."""
    from dockyard.engine.image_facts import merge_env

    base = [f"PATH={defaults.DEFAULT_PATH}", f"HOSTNAME={rec.config.hostname}"]
    if rec.config.tty:
        base.append("TERM=xterm")
    env = merge_env(base, rec.config.env)
    if not any(item.startswith("HOME=") for item in env):
        env.append(f"HOME={user.home}")  # what runc adds; set here so every runtime agrees
    return env


def all_capabilities() -> list[str]:
    """Every capability this process may hand on: its own bounding set (Podman's rule;
    a host that withholds one, CAP_SYS_RESOURCE say, would make the runtime fail)."""
    from dockyard.linux.capabilities import CAPABILITIES

    bounding = -1
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"CapBnd:"):
                    bounding = int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return [name for name, bit in CAPABILITIES.items() if bounding & (1 << bit)]


def capabilities(rec: ContainerRecord) -> list[str]:
    host = rec.host
    if host.privileged:
        return all_capabilities()
    caps = [] if "ALL" in host.cap_drop else list(defaults.DEFAULT_CAPABILITIES)
    if "ALL" in host.cap_add:
        caps = all_capabilities()
    for cap in host.cap_add:
        if cap != "ALL" and cap not in caps:
            caps.append(cap)
    drops = set(host.cap_drop)
    return [c for c in caps if c not in drops]


def _nofile_ceiling() -> int:
    """Docker's 1048576 open files, or our own hard limit if lower: without
    CAP_SYS_RESOURCE a runtime cannot raise it (Podman settles the same way)."""
    try:
        with open("/proc/self/limits", "rb") as f:
            for line in f:
                if line.startswith(b"Max open files"):
                    hard = line.split()[4]
                    return (
                        defaults.DEFAULT_NOFILE
                        if hard == b"unlimited"
                        else min(defaults.DEFAULT_NOFILE, int(hard))
                    )
    except (OSError, ValueError, IndexError):
        pass
    return defaults.DEFAULT_NOFILE


def rlimits(rec: ContainerRecord) -> list[dict[str, Any]]:
    nofile = _nofile_ceiling()
    limits = {"nofile": (nofile, nofile)}
    for u in rec.host.ulimits:
        limits[u.name] = (u.soft, u.hard)
    return [
        {"type": f"RLIMIT_{name.upper()}", "soft": soft, "hard": hard}
        for name, (soft, hard) in limits.items()
    ]


def user_mount(m: MountPoint) -> dict[str, Any]:
    ro = ["ro"] if m.read_only else []
    if m.type == "tmpfs":
        return {
            "destination": m.destination,
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "noexec", *m.options, *ro],
        }
    return {
        "destination": m.destination,
        "type": "bind",
        "source": m.source,
        "options": ["rbind", m.propagation or "rprivate", *ro],
    }


def mounts(rec: ContainerRecord, etc_files: dict[str, str], shm: str = "") -> list[dict[str, Any]]:
    host = rec.host
    taken = {m.destination for m in rec.mounts}
    out = [
        m
        for m in defaults.standard_mounts(host.privileged, host.shm_size, host.ipc_mode, shm)
        if m["destination"] not in taken
    ]
    for dest in ETC_FILES:
        if dest in etc_files and dest not in taken:
            out.append(
                {
                    "destination": dest,
                    "type": "bind",
                    "source": etc_files[dest],
                    "options": ["rbind", "rprivate"],
                }
            )
    # Parents before children (Docker sorts by path depth) so a mount inside
    # another user mount lands on top of it.
    ordered = sorted(rec.mounts, key=lambda m: m.destination.rstrip("/").count("/"))
    out += [user_mount(m) for m in ordered]
    return out


def namespaces(rec: ContainerRecord, cgroup_v2: bool, netns: str = "") -> list[dict[str, str]]:
    host = rec.host
    kinds = ["mount"]
    if host.network_mode != "host" and not netns:
        kinds.append("network")
    if host.uts_mode != "host":
        kinds.append("uts")
    if host.pid_mode != "host":
        kinds.append("pid")
    if host.ipc_mode != "host":
        kinds.append("ipc")
    if spec_resources.private_cgroupns(host, cgroup_v2):
        kinds.append("cgroup")
    out = [{"type": kind} for kind in kinds]
    if host.network_mode != "host" and netns:
        out.insert(1, {"type": "network", "path": netns})  # X's, or the engine's
    return out


def resources(rec: ContainerRecord, devices: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    host = rec.host
    rules = defaults.device_rules(host.privileged)
    if not host.privileged:
        for dev, access in devices:
            rules.append(
                {
                    "allow": True,
                    "type": dev["type"],
                    "major": dev["major"],
                    "minor": dev["minor"],
                    "access": access,
                }
            )
    out: dict[str, Any] = {"devices": rules}
    memory: dict[str, int] = {}
    if host.memory:
        memory["limit"] = host.memory
        if host.memory_swap == 0:
            memory["swap"] = host.memory * 2  # Docker: as much swap as memory by default
        elif host.memory_swap > 0:
            if host.memory_swap < host.memory:
                raise InvalidArgument(
                    "Minimum memoryswap limit should be larger than memory limit, see usage"
                )
            memory["swap"] = host.memory_swap
        else:
            memory["swap"] = -1
    elif host.memory_swap > 0:
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap limit")
    if host.memory_reservation:
        if host.memory and host.memory_reservation > host.memory:
            raise InvalidArgument(
                "Minimum memory limit can not be less than memory reservation limit, see usage"
            )
        memory["reservation"] = host.memory_reservation
    if memory:
        out["memory"] = memory
    cpu: dict[str, Any] = {}
    if host.cpu_shares:
        cpu["shares"] = host.cpu_shares
    if host.nano_cpus:
        cpu["period"] = 100000
        cpu["quota"] = max(1000, host.nano_cpus * 100000 // 1_000_000_000)
    if host.cpuset_cpus:
        cpu["cpus"] = host.cpuset_cpus
    if cpu:
        out["cpu"] = cpu
    if host.pids_limit is not None and host.pids_limit > 0:
        out["pids"] = {"limit": host.pids_limit}
    return out


def device_entry(mapping: DeviceMapping) -> tuple[dict[str, Any], str]:
    """The linux.devices entry for a ``--device`` and the access its cgroup rule grants."""
    try:
        st = posix.stat(mapping.path_on_host)
    except FileNotFoundError:
        raise NotFound(
            f"error gathering device information while adding custom device "
            f"{mapping.path_on_host!r}: no such file or directory"
        ) from None
    kind = st.st_mode & _S_IFMT
    if kind not in (_S_IFCHR, _S_IFBLK):
        raise InvalidArgument(f"{mapping.path_on_host} is not a device node")
    entry = {
        "path": mapping.path_in_container,
        "type": "c" if kind == _S_IFCHR else "b",
        "major": posix.major(st.st_rdev),
        "minor": posix.minor(st.st_rdev),
        "fileMode": st.st_mode & 0o777,
        "uid": st.st_uid,
        "gid": st.st_gid,
    }
    return entry, mapping.permissions


_SKIP_DIRS = ("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev")


def host_devices(top: str = "/dev") -> list[DeviceMapping]:
    """Every device node under /dev, for ``--privileged`` (as Docker gives it)."""
    found: list[DeviceMapping] = []
    try:
        names = sorted(posix.listdir(top))
    except OSError:
        return found
    for name in names:
        path = f"{top}/{name}"
        try:
            st = posix.lstat(path)
        except OSError:
            continue
        kind = st.st_mode & _S_IFMT
        if kind == _S_IFDIR and name not in _SKIP_DIRS:
            found += host_devices(path)
        elif kind in (_S_IFCHR, _S_IFBLK) and name != "console" and st.st_rdev:
            found.append(DeviceMapping(path, path, "rwm"))
    return found


def sysctls(rec: ContainerRecord) -> dict[str, str]:
    host = rec.host
    out = {} if host.network_mode == "host" else dict(defaults.NETWORK_SYSCTLS)
    for key, value in host.sysctls.items():
        if key.startswith("net."):
            if host.network_mode == "host":
                raise InvalidArgument(f"sysctl {key!r} is not allowed in host network namespace")
        elif key.startswith(("kernel.msg", "kernel.sem", "kernel.shm", "fs.mqueue.")):
            if host.ipc_mode == "host":
                raise InvalidArgument(f"sysctl {key!r} is not allowed with --ipc host")
        elif key != "kernel.domainname" and not key.startswith("kernel.shm_rmid_forced"):
            raise InvalidArgument(f"sysctl {key!r} is not allowed: it is not namespaced")
        out[key] = value
    return out


def seccomp(rec: ContainerRecord, caps: list[str]) -> dict[str, Any] | None:
    host = rec.host
    profile = ""
    for opt in host.security_opt:
        key, _, value = opt.partition("=")
        if key == "seccomp":
            profile = value
    if host.privileged or profile == "unconfined":
        return None
    if profile:
        from dockyard.engine.seccomp_profile import from_docker_profile

        return from_docker_profile(profile, caps)
    from dockyard.runtime.seccomp_default import default_seccomp

    return default_seccomp(caps)


def no_new_privileges(rec: ContainerRecord) -> bool:
    for opt in rec.host.security_opt:
        key, sep, value = opt.replace(":", "=", 1).partition("=")
        if key == "no-new-privileges":
            return not sep or value.lower() in ("true", "1", "")
    return False


def build(
    rec: ContainerRecord,
    rootfs: str,
    user: ProcessUser,
    etc_files: dict[str, str],
    cgroup_v2: bool = False,
    netns: str = "",
    shm: str = "",
) -> dict[str, Any]:
    """The whole config.json for ``rec`` with its root filesystem at ``rootfs``; /dev/shm
    bound from ``shm`` if given (engine/ipc.py)."""
    host = rec.host
    caps = capabilities(rec)
    mappings = host_devices() if host.privileged else []
    mappings += host.devices
    devices = [device_entry(m) for m in mappings]
    process: dict[str, Any] = {
        "terminal": rec.config.tty,
        "user": {"uid": user.uid, "gid": user.gid},
        "args": process_args(rec),
        "env": process_env(rec, user),
        "cwd": rec.config.working_dir or "/",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "rlimits": rlimits(rec),
    }
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    if no_new_privileges(rec):
        process["noNewPrivileges"] = True
    linux: dict[str, Any] = {
        "namespaces": namespaces(rec, cgroup_v2, netns),
        "resources": resources(rec, devices),
        "cgroupsPath": f"{host.cgroup_parent or CGROUP_PARENT}/{rec.id}",
    }
    spec_resources.add(host, linux["resources"], process)
    if devices:
        linux["devices"] = [entry for entry, _ in devices]
    if not host.privileged:
        linux["maskedPaths"] = list(defaults.MASKED_PATHS)
        linux["readonlyPaths"] = list(defaults.READONLY_PATHS)
    values = sysctls(rec)
    if values:
        linux["sysctl"] = values
    profile = seccomp(rec, caps)
    if profile is not None:
        linux["seccomp"] = profile
    spec: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": rootfs, "readonly": host.readonly_rootfs},
        "mounts": mounts(rec, etc_files, shm),
        "linux": linux,
    }
    if host.init:
        from dockyard.engine import init_binary

        process["args"] = init_binary.wrap(process["args"], spec["mounts"])
    if host.uts_mode != "host":
        spec["hostname"] = rec.config.hostname
        if rec.config.domainname:
            spec["domainname"] = rec.config.domainname
    return spec
