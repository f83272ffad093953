"""docker-py's keyword arguments for ``containers.run``/``create`` -> the engine's `CreateRequest`.

The names and value shapes are docker-py's (``environment`` a dict or a
list, ``volumes`` a dict ``{source: {"bind": dest, "mode": "ro"}}`` or a
list of ``-v`` strings, ``mem_limit`` an int or "512m", ``ulimits`` dicts
or objects with name/soft/hard...). Every value is read by the same
functions the CLI's flags go through. An argument we do not know is a
TypeError, as docker-py's own.
"""

from __future__ import annotations

from dockyard.engine import parse as values
from dockyard.engine.create import CreateRequest
from dockyard.engine.mount_spec import parse_mount, parse_volume, tmpfs_mount
from dockyard.engine.types import (
    DeviceMapping,
    HostConfig,
    LogConfig,
    MountPoint,
    PortBinding,
    RestartPolicy,
    Ulimit,
)
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

KNOWN = {
    "auto_remove", "cap_add", "cap_drop", "cgroup_parent", "cpu_shares", "cpuset_cpus",
    "detach", "devices", "domainname", "entrypoint", "environment", "group_add", "hostname",
    "ipc_mode", "labels", "log_config", "mem_limit", "mem_reservation", "memswap_limit",
    "mounts", "name", "nano_cpus", "network_mode", "network_disabled", "pid_mode",
    "pids_limit", "platform", "privileged", "read_only", "remove", "runtime", "security_opt",
    "shm_size", "stdin_open", "stdout", "stderr", "stop_signal", "stop_timeout", "sysctls",
    "tmpfs", "tty", "ulimits", "user", "userns_mode", "uts_mode", "volumes", "working_dir",
    "pull", "cpu_period", "cpu_quota", "init",
    "network", "ports", "publish_all_ports", "dns", "dns_search", "dns_opt", "extra_hosts",
    "mac_address", "restart_policy", "healthcheck",
    "blkio_weight", "mem_swappiness", "oom_kill_disable", "oom_score_adj",
    "device_cgroup_rules", "cgroupns", "volumes_from",
}  # fmt: skip


def _size(value: object, option: str) -> int:
    if isinstance(value, int):
        return value
    return values.parse_bytes(str(value), option)


def _command(value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _env(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _labels(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {str(k): "" for k in value}  # type: ignore[attr-defined]


def _volumes(value: object) -> list[MountPoint]:
    if value is None:
        return []
    if isinstance(value, dict):
        specs = []
        for source, bind in value.items():
            if isinstance(bind, dict):
                spec = f"{source}:{bind['bind']}"
                if bind.get("mode"):
                    spec += f":{bind['mode']}"
            else:
                spec = f"{source}:{bind}"
            specs.append(spec)
        return [parse_volume(s) for s in specs]
    return [parse_volume(str(s)) for s in value]  # type: ignore[attr-defined]


def _mount(value: object) -> MountPoint:
    if isinstance(value, str):
        return parse_mount(value)
    raw = dict(value) if isinstance(value, dict) else vars(value)
    kind = raw.get("Type") or raw.get("type") or "volume"
    parts = [f"type={kind}", f"target={raw.get('Target') or raw.get('target')}"]
    source = raw.get("Source") or raw.get("source")
    if source:
        parts.append(f"source={source}")
    if raw.get("ReadOnly") or raw.get("read_only"):
        parts.append("readonly")
    return parse_mount(",".join(parts))


def _ulimit(value: object) -> Ulimit:
    if isinstance(value, str):
        return values.parse_ulimit(value)
    raw = dict(value) if isinstance(value, dict) else vars(value)
    name = raw.get("Name") or raw.get("name")
    soft = raw.get("Soft", raw.get("soft"))
    hard = raw.get("Hard", raw.get("hard", soft))
    return values.parse_ulimit(f"{name}={soft}:{hard}")


def _devices(value: object) -> list[DeviceMapping]:
    return [values.parse_device(str(d)) for d in value or []]  # type: ignore[attr-defined]


def _log_config(value: object) -> LogConfig:
    if value is None:
        return LogConfig()
    raw = dict(value) if isinstance(value, dict) else vars(value)
    kind = raw.get("Type") or raw.get("type") or "json-file"
    config = raw.get("Config") or raw.get("config") or {}
    if kind not in ("json-file", "none"):
        raise InvalidArgument(f"logging driver {kind!r} is not supported (json-file or none)")
    return LogConfig(kind, {str(k): str(v) for k, v in config.items()})


def _restart_policy(value: object) -> RestartPolicy:
    """docker-py's ``{"Name": "on-failure", "MaximumRetryCount": 5}`` (or the flag's text)."""
    from dockyard.engine import restart_policy

    if value is None:
        return RestartPolicy()
    if isinstance(value, str):
        return restart_policy.parse(value)
    raw = dict(value) if isinstance(value, dict) else vars(value)
    policy = RestartPolicy(
        str(raw.get("Name") or raw.get("name") or "no"),
        int(raw.get("MaximumRetryCount") or raw.get("maximum_retry_count") or 0),
    )
    restart_policy.validate(policy)
    return policy


def request(image: str, command: object = None, **kwargs: Any) -> CreateRequest:
    unknown = set(kwargs) - KNOWN
    if unknown:
        raise TypeError(f"run() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    mounts = _volumes(kwargs.get("volumes"))
    binds = [f"{m.name or m.source}:{m.destination}" for m in mounts]
    mounts += [_mount(m) for m in kwargs.get("mounts") or []]
    tmpfs = kwargs.get("tmpfs") or {}
    if isinstance(tmpfs, list):
        tmpfs = {t.partition(":")[0]: t.partition(":")[2] for t in tmpfs}
    mounts += [tmpfs_mount(dest, opts) for dest, opts in tmpfs.items()]
    network = (
        kwargs.get("network_mode")
        or kwargs.get("network")
        or ("none" if kwargs.get("network_disabled") else "default")
    )
    nano = kwargs.get("nano_cpus") or 0
    userns = kwargs.get("userns_mode") or ""
    if userns not in ("", "host"):
        raise InvalidArgument(f"userns_mode {userns!r}: Dockyard makes no user namespaces")
    host = HostConfig(
        binds=binds,  # volumes= alone, as Docker's HostConfig.Binds; mounts= go to Mounts
        network_mode=network,
        auto_remove=bool(
            kwargs.get("auto_remove") or (kwargs.get("remove") and kwargs.get("detach"))
        ),
        runtime=kwargs.get("runtime") or "",
        privileged=bool(kwargs.get("privileged")),
        readonly_rootfs=bool(kwargs.get("read_only")),
        cap_add=[values.capability(c) for c in kwargs.get("cap_add") or []],
        cap_drop=[values.capability(c) for c in kwargs.get("cap_drop") or []],
        security_opt=list(kwargs.get("security_opt") or []),
        memory=_size(kwargs.get("mem_limit") or 0, "mem_limit"),
        memory_swap=(
            -1
            if kwargs.get("memswap_limit") in (-1, "-1")
            else _size(kwargs.get("memswap_limit") or 0, "memswap_limit")
        ),
        memory_reservation=_size(kwargs.get("mem_reservation") or 0, "mem_reservation"),
        nano_cpus=int(nano),
        cpu_period=int(kwargs.get("cpu_period") or 0),
        cpu_quota=int(kwargs.get("cpu_quota") or 0),
        blkio_weight=int(kwargs.get("blkio_weight") or 0),
        memory_swappiness=kwargs.get("mem_swappiness"),
        oom_kill_disable=bool(kwargs.get("oom_kill_disable")),
        oom_score_adj=int(kwargs.get("oom_score_adj") or 0),
        device_cgroup_rules=[str(r) for r in kwargs.get("device_cgroup_rules") or []],
        cgroupns_mode=kwargs.get("cgroupns") or "",
        volumes_from=[str(v) for v in kwargs.get("volumes_from") or []],
        userns_mode=userns,
        cpu_shares=int(kwargs.get("cpu_shares") or 0),
        cpuset_cpus=str(kwargs.get("cpuset_cpus") or ""),
        pids_limit=kwargs.get("pids_limit"),
        ulimits=[_ulimit(u) for u in kwargs.get("ulimits") or []],
        devices=_devices(kwargs.get("devices")),
        sysctls={str(k): str(v) for k, v in (kwargs.get("sysctls") or {}).items()},
        group_add=[str(g) for g in kwargs.get("group_add") or []],
        ipc_mode=kwargs.get("ipc_mode") or "private",
        pid_mode=kwargs.get("pid_mode") or "",
        uts_mode=kwargs.get("uts_mode") or "",
        shm_size=_size(kwargs.get("shm_size") or 64 << 20, "shm_size"),
        tmpfs=dict(tmpfs),
        log_config=_log_config(kwargs.get("log_config")),
        restart_policy=_restart_policy(kwargs.get("restart_policy")),
        cgroup_parent=kwargs.get("cgroup_parent") or "",
        init=bool(kwargs["init"]) if kwargs.get("init") is not None else None,
        platform=kwargs.get("platform") or "",
        port_bindings=_ports(kwargs.get("ports")),
        publish_all_ports=bool(kwargs.get("publish_all_ports")),
        dns=[str(d) for d in kwargs.get("dns") or []],
        dns_search=[str(d) for d in kwargs.get("dns_search") or []],
        dns_options=[str(d) for d in kwargs.get("dns_opt") or []],
        extra_hosts=_extra_hosts(kwargs.get("extra_hosts")),
    )
    healthcheck = None
    if kwargs.get("healthcheck") is not None:
        from dockyard.engine.health_config import from_api

        raw = kwargs["healthcheck"]
        healthcheck = from_api(dict(raw) if isinstance(raw, dict) else vars(raw))
    entrypoint = kwargs.get("entrypoint")
    return CreateRequest(
        image=image,
        cmd=_command(command),
        entrypoint=_command(entrypoint) if entrypoint is not None else None,
        name=kwargs.get("name") or "",
        env=_env(kwargs.get("environment")),
        labels=_labels(kwargs.get("labels")),
        working_dir=kwargs.get("working_dir") or None,
        user=str(kwargs["user"]) if kwargs.get("user") not in (None, "") else None,
        hostname=kwargs.get("hostname") or "",
        domainname=kwargs.get("domainname") or "",
        tty=bool(kwargs.get("tty")),
        open_stdin=bool(kwargs.get("stdin_open")),
        stop_signal=kwargs.get("stop_signal") or "",
        stop_timeout=kwargs.get("stop_timeout"),
        mounts=mounts,
        host=host,
        pull=kwargs.get("pull") or "missing",
        platform=kwargs.get("platform") or "",
        mac_address=kwargs.get("mac_address") or "",
        healthcheck=healthcheck,
    )


def _ports(value: object) -> dict[str, list[PortBinding]]:
    """docker-py's ``ports``: {"80/tcp": 8080 | None | ("127.0.0.1", 8080) | [8080, 8081]}."""
    out: dict[str, list[PortBinding]] = {}
    for key, sides in (value or {}).items():  # type: ignore[attr-defined]
        port = str(key) if "/" in str(key) else f"{key}/tcp"
        from dockyard.network.ports import parse_expose

        parse_expose(port)  # checks the number and the protocol
        for side in sides if isinstance(sides, list) else [sides]:
            if side is None:
                binding = PortBinding()
            elif isinstance(side, tuple):
                binding = PortBinding(str(side[0]), str(side[1]) if len(side) > 1 else "")
            else:
                binding = PortBinding("", str(side))
            out.setdefault(port, []).append(binding)
    return out


def _extra_hosts(value: object) -> list[str]:
    """docker-py's ``extra_hosts``: {"name": "ip"} or ["name:ip"]."""
    from dockyard.engine.net_etc import parse_add_host

    items = (
        [f"{k}:{v}" for k, v in value.items()] if isinstance(value, dict) else list(value or [])  # type: ignore[call-overload]
    )
    for item in items:
        parse_add_host(item)
    return [str(i) for i in items]
