"""The engine's typed records: a container (what runs, how, and its run state) and a volume.

The shapes follow Docker's container JSON (``Config``, ``HostConfig``,
``State``, ``Mounts``) field for field where Docker has the field, in
Python's spelling; `engine.inspect` maps them to Docker's names. They are
stored as JSON in the database (`record.to_json`) and read back with
`record.from_json`.
"""

from __future__ import annotations

from dockyard.engine.record import field, record


@record
class Ulimit:
    name: str
    soft: int
    hard: int


@record
class DeviceMapping:
    path_on_host: str
    path_in_container: str
    permissions: str = "rwm"


@record
class RestartPolicy:
    """``--restart``: Docker's HostConfig.RestartPolicy (engine/restart_policy.py reads it)."""

    name: str = "no"  # no, always, on-failure, unless-stopped
    maximum_retry_count: int = 0


@record
class LogConfig:
    type: str = "json-file"
    config: dict[str, str] = field(default_factory=dict)


@record
class MountPoint:
    """One mount the user asked for (``-v``, ``--mount``, ``--tmpfs``) or the image's VOLUME."""

    type: str  # bind, volume, tmpfs
    destination: str
    source: str = ""  # host path (bind, volume's _data), "" for tmpfs
    name: str = ""  # the volume's name
    read_only: bool = False
    mode: str = ""  # what the user wrote after the second colon (z, Z, ro, ...)
    propagation: str = ""  # rprivate, rshared, ...
    options: list[str] = field(default_factory=list)  # tmpfs: size=, mode=
    anonymous: bool = False
    no_copy: bool = False  # volume-nocopy: do not seed a new volume from the image


@record
class PortBinding:
    """One host side of a published port (Docker's ``{"HostIp": ..., "HostPort": ...}``)."""

    host_ip: str = ""
    host_port: str = ""  # "" = a random free port at start; "8000-8010" = the first free of those


@record
class HealthConfig:
    """A HEALTHCHECK: Docker's HealthConfig (durations in nanoseconds, 0 for the default)."""

    test: list[str] = field(default_factory=list)  # [], ["NONE"], ["CMD", ...], ["CMD-SHELL", cmd]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@record
class HealthResult:
    """One check: Docker's HealthcheckResult (times as RFC 3339)."""

    start: str
    end: str
    exit_code: int
    output: str = ""


@record
class Health:
    """Docker's State.Health: starting, healthy or unhealthy, and the last 5 results."""

    status: str = "starting"
    failing_streak: int = 0
    log: list[HealthResult] = field(default_factory=list)


@record
class ContainerConfig:
    """What runs: Docker's ``Config``."""

    image: str
    hostname: str = ""
    domainname: str = ""
    user: str = ""
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    env: list[str] = field(default_factory=list)
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    volumes: list[str] = field(default_factory=list)
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    stop_timeout: int | None = None
    exposed_ports: list[str] = field(default_factory=list)
    mac_address: str = ""
    healthcheck: HealthConfig | None = None


@record
class HostConfig:
    """How it runs: Docker's ``HostConfig``."""

    binds: list[str] = field(default_factory=list)
    network_mode: str = "default"
    auto_remove: bool = False
    runtime: str = "dockyard"
    privileged: bool = False
    readonly_rootfs: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    memory: int = 0
    memory_swap: int = 0
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    pids_limit: int | None = None
    ulimits: list[Ulimit] = field(default_factory=list)
    devices: list[DeviceMapping] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    group_add: list[str] = field(default_factory=list)
    ipc_mode: str = "private"
    pid_mode: str = ""
    uts_mode: str = ""
    shm_size: int = 64 * 1024 * 1024
    tmpfs: dict[str, str] = field(default_factory=dict)
    log_config: LogConfig = field(default_factory=LogConfig)
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    cgroup_parent: str = ""
    platform: str = ""
    init: bool | None = None  # --init (Docker's *bool: unset is null in inspect)
    # engine/spec_resources.py: the cgroup knobs beyond the common ones, the OOM score
    cpu_period: int = 0
    cpu_quota: int = 0
    blkio_weight: int = 0
    memory_swappiness: int | None = None
    oom_kill_disable: bool = False
    oom_score_adj: int = 0
    device_cgroup_rules: list[str] = field(default_factory=list)
    cgroupns_mode: str = ""  # host, private; "" = the engine's default for this host
    volumes_from: list[str] = field(default_factory=list)  # CONTAINER[:ro|rw]
    userns_mode: str = ""  # "" or host: no user namespace either way
    container_id_file: str = ""  # --cidfile (the CLI writes it)
    # networking (engine/net_attach.py): "80/tcp" -> host sides; -P; resolv.conf; /etc/hosts
    port_bindings: dict[str, list[PortBinding]] = field(default_factory=dict)
    publish_all_ports: bool = False
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)


@record
class RunState:
    """What happened to it: Docker's ``State``, plus the monitor that holds it."""

    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    oom_killed: bool = False
    monitor_pid: int = 0
    restart_count: int = 0
    # restart policies (engine/restart.py): Docker's HasBeenManuallyStopped, its
    # restart manager's cancel (kill) and backoff, and the pending restart
    manually_stopped: bool = False
    restart_canceled: bool = False
    restart_delay_ms: int = 0
    restart_token: str = ""
    restart_waiter_pid: int = 0
    health: Health | None = None  # as of the last run's end (engine/health.py)


@record
class ContainerRecord:
    id: str
    name: str
    image_id: str
    created: str
    status: str
    config: ContainerConfig
    host: HostConfig = field(default_factory=HostConfig)
    mounts: list[MountPoint] = field(default_factory=list)
    state: RunState = field(default_factory=RunState)
    driver: str = ""  # the snapshot's storage driver: overlay or vfs

    @property
    def short_id(self) -> str:
        return self.id[:12]


@record
class VolumeRecord:
    name: str
    created: str
    mountpoint: str
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False
