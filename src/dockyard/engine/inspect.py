"""``inspect``: a container as Docker's JSON (``docker container inspect``), key for key.

Keys Dockyard has no notion of yet (ports, restart policies, networks
beyond none/host) are present with Docker's empty values, so that scripts
and templates that read them get what they would from Docker.
"""

from __future__ import annotations

from dockyard.engine import spec_defaults
from dockyard.engine.clock import ZERO
from dockyard.engine.exits import current_status, read_exit
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord, HostConfig, MountPoint


def _state(engine: Engine, rec: ContainerRecord) -> dict[str, Any]:
    status = current_status(engine, rec)
    s = rec.state
    exit_code, finished, oom, error = s.exit_code, s.finished_at, s.oom_killed, s.error
    if status != rec.status and status == Status.EXITED:
        info = read_exit(engine, rec.id)
        if info is not None:
            exit_code, finished, oom = info.exit_code, info.finished_at, info.oom_killed
    running = status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
    out: dict[str, Any] = {
        "Status": status,
        "Running": running,
        "Paused": status == Status.PAUSED,
        "Restarting": status == Status.RESTARTING,
        "OOMKilled": oom,
        "Dead": status == Status.DEAD,
        "Pid": s.pid if running else 0,
        "ExitCode": exit_code,
        "Error": error,
        "StartedAt": s.started_at or ZERO,
        "FinishedAt": finished or ZERO,
    }
    if rec.config.healthcheck is not None:
        from dockyard.engine.health import current, state_json

        health = current(engine, rec, rec.status in (Status.RUNNING, Status.PAUSED))
        if health is not None:
            if status in (Status.EXITED, Status.DEAD):
                health.status = "unhealthy"  # its checks have stopped (Docker's word)
            out["Health"] = state_json(health)
    return out


def _host_config(host: HostConfig, mounts: list[MountPoint]) -> dict[str, Any]:
    from dockyard.engine.bundle import cgroup_v2
    from dockyard.engine.spec_resources import private_cgroupns

    cgroupns = "private" if private_cgroupns(host, cgroup_v2()) else "host"
    out: dict[str, Any] = {
        "Binds": list(host.binds) or None,
        "ContainerIDFile": host.container_id_file,
        "LogConfig": {"Type": host.log_config.type, "Config": dict(host.log_config.config)},
        "NetworkMode": host.network_mode,
        "PortBindings": {
            port: [{"HostIp": b.host_ip, "HostPort": b.host_port} for b in bindings]
            for port, bindings in host.port_bindings.items()
        },
        "RestartPolicy": {
            "Name": host.restart_policy.name or "no",
            "MaximumRetryCount": host.restart_policy.maximum_retry_count,
        },
        "AutoRemove": host.auto_remove,
        "VolumeDriver": "",
        "VolumesFrom": list(host.volumes_from) or None,
        "ConsoleSize": [0, 0],
        "CapAdd": list(host.cap_add) or None,
        "CapDrop": list(host.cap_drop) or None,
        "CgroupnsMode": host.cgroupns_mode or cgroupns,
        "Dns": list(host.dns),
        "DnsOptions": list(host.dns_options),
        "DnsSearch": list(host.dns_search),
        "ExtraHosts": list(host.extra_hosts) or None,
        "GroupAdd": list(host.group_add) or None,
        "IpcMode": host.ipc_mode,
        "Cgroup": "",
        "Links": None,
        "OomScoreAdj": host.oom_score_adj,
        "PidMode": host.pid_mode,
        "Privileged": host.privileged,
        "PublishAllPorts": host.publish_all_ports,
        "ReadonlyRootfs": host.readonly_rootfs,
        "SecurityOpt": [_short_opt(o) for o in host.security_opt] or None,
        "UTSMode": host.uts_mode,
        "UsernsMode": host.userns_mode,
        "ShmSize": host.shm_size,
        "Runtime": host.runtime,
        "Isolation": "",
        "CpuShares": host.cpu_shares,
        "Memory": host.memory,
        "NanoCpus": host.nano_cpus,
        "CgroupParent": host.cgroup_parent,
        "BlkioWeight": host.blkio_weight,
        "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": [],
        "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [],
        "BlkioDeviceWriteIOps": [],
        "CpuPeriod": host.cpu_period,
        "CpuQuota": host.cpu_quota,
        "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0,
        "CpusetCpus": host.cpuset_cpus,
        "CpusetMems": "",
        "Devices": [
            {
                "PathOnHost": d.path_on_host,
                "PathInContainer": d.path_in_container,
                "CgroupPermissions": d.permissions,
            }
            for d in host.devices
        ],
        "DeviceCgroupRules": list(host.device_cgroup_rules) or None,
        "DeviceRequests": None,
        "MemoryReservation": host.memory_reservation,
        "MemorySwap": host.memory_swap,
        "MemorySwappiness": host.memory_swappiness,
        "OomKillDisable": host.oom_kill_disable,
        "PidsLimit": host.pids_limit,
        "Ulimits": [{"Name": u.name, "Hard": u.hard, "Soft": u.soft} for u in host.ulimits],
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "MaskedPaths": [] if host.privileged else list(spec_defaults.MASKED_PATHS),
        "ReadonlyPaths": [] if host.privileged else list(spec_defaults.READONLY_PATHS),
    }
    # Docker's omitempty keys: absent, not null, when not set
    # HostConfig.Mounts holds what --mount asked for: not -v (Binds) nor --tmpfs (Tmpfs)
    from_v = {_bind_destination(b) for b in host.binds} | set(host.tmpfs)
    requested = [
        _mount_request(m) for m in mounts if not m.anonymous and m.destination not in from_v
    ]
    for key, value in (
        ("Tmpfs", dict(host.tmpfs)),
        ("Sysctls", dict(host.sysctls)),
        ("Mounts", requested),
        ("Init", host.init),
    ):
        if value or value is False:
            out[key] = value
    return out


def _short_opt(opt: str) -> str:
    """A seccomp profile's JSON is kept whole; Docker shows it so too, but one line is kinder."""
    return opt if not opt.startswith("seccomp={") else "seccomp=<profile>"


def _bind_destination(bind: str) -> str:
    """``-v SOURCE:DEST[:MODE]`` (or ``-v DEST``): DEST."""
    parts = bind.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _mount_request(m: MountPoint) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": m.type}
    if m.type != "tmpfs":
        out["Source"] = m.name or m.source
    out["Target"] = m.destination
    if m.read_only:
        out["ReadOnly"] = True
    if m.type == "tmpfs":
        options: dict[str, int] = {}
        for opt in m.options:
            key, _, value = opt.partition("=")
            if key == "size" and value.isdigit():
                options["SizeBytes"] = int(value)
            elif key == "mode":
                options["Mode"] = int(value, 8)
        if options:
            out["TmpfsOptions"] = options
    return out


def _mounts(mounts: list[MountPoint], tmpfs: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for m in mounts:
        if m.destination in tmpfs:
            continue  # Docker lists --tmpfs under HostConfig.Tmpfs only (--mount's here too)
        item: dict[str, Any] = {"Type": m.type}
        if m.type == "volume":
            item["Name"] = m.name
        item["Source"] = m.source
        item["Destination"] = m.destination
        if m.type == "volume":
            item["Driver"] = "local"
        item["Mode"] = m.mode if m.type == "bind" or m.mode else "z" if m.type == "volume" else ""
        item["RW"] = not m.read_only
        item["Propagation"] = m.propagation
        out.append(item)
    return out


def _config(rec: ContainerRecord) -> dict[str, Any]:
    c = rec.config
    out: dict[str, Any] = {
        "Hostname": c.hostname,
        "Domainname": c.domainname,
        "User": c.user,
        "AttachStdin": c.attach_stdin,
        "AttachStdout": c.attach_stdout,
        "AttachStderr": c.attach_stderr,
        "Tty": c.tty,
        "OpenStdin": c.open_stdin,
        "StdinOnce": c.stdin_once,
        "Env": list(c.env) or None,
        "Cmd": list(c.cmd) if c.cmd is not None else None,
        "Image": c.image,
        "Volumes": {v: {} for v in c.volumes} or None,
        "WorkingDir": c.working_dir,
        "Entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
        "OnBuild": None,
        "Labels": dict(c.labels),
    }
    if c.exposed_ports:
        out["ExposedPorts"] = {p: {} for p in c.exposed_ports}
    if c.stop_signal:
        out["StopSignal"] = c.stop_signal
    if c.stop_timeout is not None:
        out["StopTimeout"] = c.stop_timeout
    if c.healthcheck is not None:
        from dockyard.engine.health_config import config_json

        out["Healthcheck"] = config_json(c.healthcheck)
    return out


def container_json(engine: Engine, rec: ContainerRecord, size: bool = False) -> dict[str, Any]:
    paths = engine.paths
    directory = paths.container_dir(rec.id)
    args = [*(rec.config.entrypoint or []), *(rec.config.cmd or [])]
    snapshot = f"{engine.images.store.root}/snapshots/{rec.id}"
    from dockyard.engine.network_json import network_settings

    out_state = _state(engine, rec)
    out: dict[str, Any] = {
        "Id": rec.id,
        "Created": rec.created,
        "Path": args[0] if args else "",
        "Args": args[1:],
        "State": out_state,
        "Image": rec.image_id,
        "ResolvConfPath": f"{directory}/resolv.conf",
        "HostnamePath": f"{directory}/hostname",
        "HostsPath": f"{directory}/hosts",
        "LogPath": paths.log_path(rec.id) if rec.host.log_config.type != "none" else "",
        "Name": f"/{rec.name}",
        "RestartCount": rec.state.restart_count,
        "Driver": rec.driver or "overlay",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": _host_config(rec.host, rec.mounts),
        "GraphDriver": {
            "Data": {
                "MergedDir": f"{snapshot}/rootfs",
                "UpperDir": f"{snapshot}/upper",
                "WorkDir": f"{snapshot}/work",
            },
            "Name": rec.driver or "overlay",
        },
        "Mounts": _mounts(rec.mounts, rec.host.tmpfs),
        "Config": _config(rec),
        "NetworkSettings": network_settings(engine, rec, out_state["Status"]),
    }
    if size:
        from dockyard.engine.sizes import tree_size

        written = tree_size(f"{snapshot}/upper")
        try:
            image = engine.images.store.images.get(rec.image_id).size
        except Exception:
            image = 0
        out["SizeRw"] = written
        out["SizeRootFs"] = written + image
    return out
