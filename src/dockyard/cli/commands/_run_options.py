"""The flags ``run`` and ``create`` share, and the `CreateRequest` they make.

Only parsing here: every value goes through ``engine/parse.py`` and
``engine/mount_spec.py``, which the Python API uses too.
"""

from __future__ import annotations

from dockyard.cli.flags import BOOL, LIST, VALUE, Flag
from dockyard.engine import parse as values
from dockyard.engine import restart_policy
from dockyard.engine.create import CreateRequest
from dockyard.engine.mount_spec import parse_mount, parse_tmpfs, parse_volume, tmpfs_mount
from dockyard.engine.types import HostConfig, LogConfig
from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] IMAGE [COMMAND] [ARG...]"
INTERSPERSED = False  # flags end at the image: the rest is the container's command

FLAGS = [
    Flag("interactive", "i", help="Keep STDIN open even if not attached"),
    Flag("tty", "t", help="Allocate a pseudo-TTY"),
    Flag("rm", help="Automatically remove the container and its anonymous volumes when it exits"),
    Flag("name", kind=VALUE, help="Assign a name to the container"),
    Flag("env", "e", LIST, help="Set environment variables"),
    Flag("env-file", kind=LIST, help="Read in a file of environment variables"),
    Flag("workdir", "w", VALUE, help="Working directory inside the container"),
    Flag("user", "u", VALUE, help="Username or UID (format: <name|uid>[:<group|gid>])"),
    Flag("entrypoint", kind=VALUE, help="Overwrite the default ENTRYPOINT of the image"),
    Flag("label", "l", LIST, help="Set meta data on a container"),
    Flag("hostname", "h", VALUE, help="Container host name"),
    Flag("domainname", kind=VALUE, help="Container NIS domain name"),
    Flag("memory", "m", VALUE, help="Memory limit"),
    Flag("memory-swap", kind=VALUE, help="Swap limit equal to memory plus swap: -1 unlimited"),
    Flag("memory-reservation", kind=VALUE, help="Memory soft limit"),
    Flag("cpus", kind=VALUE, help="Number of CPUs"),
    Flag("cpu-shares", "c", VALUE, help="CPU shares (relative weight)"),
    Flag("cpuset-cpus", kind=VALUE, help="CPUs in which to allow execution (0-3, 0,1)"),
    Flag("pids-limit", kind=VALUE, help="Tune container pids limit (-1 for unlimited)"),
    Flag("ulimit", kind=LIST, help="Ulimit options"),
    Flag("cap-add", kind=LIST, help="Add Linux capabilities"),
    Flag("cap-drop", kind=LIST, help="Drop Linux capabilities"),
    Flag("privileged", help="Give extended privileges to this container"),
    Flag("read-only", help="Mount the container's root filesystem as read only"),
    Flag("security-opt", kind=LIST, help="Security Options"),
    Flag("stop-signal", kind=VALUE, help="Signal to stop the container"),
    Flag("stop-timeout", kind=VALUE, help="Timeout (in seconds) to stop a container"),
    Flag("shm-size", kind=VALUE, help="Size of /dev/shm"),
    Flag("device", kind=LIST, help="Add a host device to the container"),
    Flag("sysctl", kind=LIST, help="Sysctl options"),
    Flag("group-add", kind=LIST, help="Add additional groups to join"),
    Flag(
        "ipc", kind=VALUE, help="IPC mode to use (private, shareable, host, none, container:NAME)"
    ),
    Flag("pid", kind=VALUE, help="PID namespace to use (host, container:NAME)"),
    Flag("uts", kind=VALUE, help="UTS namespace to use (host)"),
    Flag("network", kind=VALUE, help="Connect a container to a network"),
    Flag("net", kind=VALUE, help="Alias of --network"),
    Flag("network-alias", kind=LIST, help="Add network-scoped alias for the container"),
    Flag("ip", kind=VALUE, help="IPv4 address (e.g., 172.30.100.104)"),
    Flag("mac-address", kind=VALUE, help="Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    Flag("publish", "p", LIST, help="Publish a container's port(s) to the host"),
    Flag("publish-all", "P", help="Publish all exposed ports to random ports"),
    Flag("expose", kind=LIST, help="Expose a port or a range of ports"),
    Flag("add-host", kind=LIST, help="Add a custom host-to-IP mapping (host:ip)"),
    Flag("dns", kind=LIST, help="Set custom DNS servers"),
    Flag("dns-search", kind=LIST, help="Set custom DNS search domains"),
    Flag("dns-option", kind=LIST, help="Set DNS options"),
    Flag("platform", kind=VALUE, help="Set platform if server is multi-platform capable"),
    Flag("runtime", kind=VALUE, help="Runtime to use for this container (dockyard, runc, PATH)"),
    Flag(
        "pull",
        kind=VALUE,
        default="missing",
        help='Pull image before running ("always", "missing", "never")',
    ),
    Flag("volume", "v", LIST, help="Bind mount a volume"),
    Flag("mount", kind=LIST, help="Attach a filesystem mount to the container"),
    Flag("tmpfs", kind=LIST, help="Mount a tmpfs directory"),
    Flag("log-driver", kind=VALUE, help="Logging driver for the container (json-file, none)"),
    Flag("log-opt", kind=LIST, help="Log driver options (max-size, max-file)"),
    Flag("cgroup-parent", kind=VALUE, help="Optional parent cgroup for the container"),
    Flag("init", help="Run an init inside the container that forwards signals and reaps processes"),
    Flag(
        "restart",
        kind=VALUE,
        help='Restart policy to apply when a container exits (default "no")',
    ),
    Flag("health-cmd", kind=VALUE, help="Command to run to check health"),
    Flag("health-interval", kind=VALUE, help="Time between running the check (ms|s|m|h)"),
    Flag("health-timeout", kind=VALUE, help="Maximum time to allow one check to run (ms|s|m|h)"),
    Flag("health-retries", kind=VALUE, help="Consecutive failures needed to report unhealthy"),
    Flag(
        "health-start-period",
        kind=VALUE,
        help="Start period for the container to initialize before starting health-retries "
        "countdown (ms|s|m|h)",
    ),
    Flag(
        "health-start-interval",
        kind=VALUE,
        help="Time between running the check during the start period (ms|s|m|h)",
    ),
    Flag("no-healthcheck", help="Disable any container-specified HEALTHCHECK"),
    Flag("quiet", "q", BOOL, help="Suppress the pull output"),
    Flag("label-file", kind=LIST, help="Read in a line delimited file of labels"),
    Flag("cidfile", kind=VALUE, help="Write the container ID to the file"),
    Flag("cpu-period", kind=VALUE, help="Limit CPU CFS (Completely Fair Scheduler) period"),
    Flag("cpu-quota", kind=VALUE, help="Limit CPU CFS (Completely Fair Scheduler) quota"),
    Flag("blkio-weight", kind=VALUE, help="Block IO (relative weight), between 10 and 1000"),
    Flag("memory-swappiness", kind=VALUE, help="Tune container memory swappiness (0 to 100)"),
    Flag("oom-kill-disable", help="Disable OOM Killer"),
    Flag("oom-score-adj", kind=VALUE, help="Tune host's OOM preferences (-1000 to 1000)"),
    Flag("device-cgroup-rule", kind=LIST, help="Add a rule to the cgroup allowed devices list"),
    Flag("cgroupns", kind=VALUE, help="Cgroup namespace to use (host|private)"),
    Flag("volumes-from", kind=LIST, help="Mount volumes from the specified container(s)"),
    Flag("userns", kind=VALUE, help="User namespace to use (host, or none given)"),
]
RUN_FLAGS = [
    Flag("detach", "d", help="Run container in background and print container ID"),
    Flag("sig-proxy", default=True, help="Proxy received signals to the process"),
    Flag("detach-keys", kind=VALUE, help="Override the key sequence for detaching a container"),
    Flag("attach", "a", LIST, help="Attach to STDIN, STDOUT or STDERR"),
    *FLAGS,
]


def _int_or_none(text: str, option: str) -> int | None:
    return values.parse_int(text, option) if text else None


def _number(text: object, option: str) -> int:
    return values.parse_int(str(text), option) if text else 0


def _userns(mode: str) -> str:
    if mode not in ("", "host"):
        raise InvalidArgument(
            f"--userns {mode}: Dockyard makes no user namespaces for containers (host only)"
        )
    return mode


def _log_config(p: Parsed) -> LogConfig:
    driver = str(p.log_driver) or "json-file"
    if driver not in ("json-file", "none", "local"):
        raise InvalidArgument(f"logging driver {driver!r} is not supported (json-file or none)")
    if driver == "local":
        driver = "json-file"
    config = {}
    for opt in p.log_opt:
        key, sep, value = opt.partition("=")
        if not sep or key not in ("max-size", "max-file"):
            raise InvalidArgument(f"unknown log opt {key!r} for {driver} log driver")
        if key == "max-size":
            values.parse_bytes(value, "--log-opt max-size")
        elif not value.isdigit() or int(value) < 1:
            raise InvalidArgument(f"invalid value for max-file: {value!r}")
        config[key] = value
    return LogConfig(driver, config)


def _mode(text: str, option: str, allowed: tuple[str, ...], default: str) -> str:
    return values.namespace_mode(text, option, allowed) if text else default


def _joinable(text: str, option: str, allowed: tuple[str, ...], default: str) -> str:
    """``--ipc``/``--pid``: one of ``allowed``, or ``container:NAME`` (the engine finds the
    container: engine/ipc.py)."""
    if text.startswith("container:") and text != "container:":
        return text
    return _mode(text, option, allowed, default)


def _pull_policy(text: str) -> str:
    """docker/cli checks --pull before anything is asked of the daemon."""
    from dockyard.engine.images import PULL_POLICIES, PULL_POLICY_ERROR

    if text not in PULL_POLICIES:
        raise InvalidArgument(PULL_POLICY_ERROR.format(text))
    return text


def request_from(p: Parsed) -> tuple[CreateRequest, set[str]]:
    """The parsed flags and arguments as a `CreateRequest`; -v destinations made by -v."""
    import posix

    if not p.args:
        raise InvalidArgument('"run" requires at least 1 argument (an image)')
    environ = (
        {
            k.decode(errors="surrogateescape"): v.decode(errors="surrogateescape")
            for k, v in posix.environ.items()
        }
        if p.env or p.env_file
        else {}
    )
    env: list[str] = []
    for path in p.env_file:
        env += values.read_env_file(path, environ)
    env += values.env_items(list(p.env), environ)
    mounts = [parse_volume(v) for v in p.volume]
    from_v = {m.destination for m in mounts if m.type == "bind"}
    mounts += [parse_mount(m) for m in p.mount]
    tmpfs = {}
    for item in p.tmpfs:
        dest, options = parse_tmpfs(item)
        mounts.append(tmpfs_mount(dest, options))
        tmpfs[dest] = options
    network = str(p.network or p.net) or "default"
    host = HostConfig(
        binds=list(p.volume),
        network_mode=network,
        auto_remove=bool(p.rm),
        runtime=str(p.runtime),
        privileged=bool(p.privileged),
        readonly_rootfs=bool(p.read_only),
        cap_add=[values.capability(c) for c in p.cap_add],
        cap_drop=[values.capability(c) for c in p.cap_drop],
        security_opt=_security_opts(list(p.security_opt)),
        memory=values.parse_bytes(str(p.memory), "--memory") if p.memory else 0,
        memory_swap=values.parse_memory_swap(str(p.memory_swap)) if p.memory_swap else 0,
        memory_reservation=(
            values.parse_bytes(str(p.memory_reservation), "--memory-reservation")
            if p.memory_reservation
            else 0
        ),
        nano_cpus=values.parse_cpus(str(p.cpus)) if p.cpus else 0,
        cpu_shares=values.parse_int(str(p.cpu_shares), "--cpu-shares") if p.cpu_shares else 0,
        cpuset_cpus=str(p.cpuset_cpus),
        pids_limit=_int_or_none(str(p.pids_limit), "--pids-limit"),
        ulimits=[values.parse_ulimit(u) for u in p.ulimit],
        devices=[values.parse_device(d) for d in p.device],
        sysctls=values.sysctls(list(p.sysctl)),
        group_add=list(p.group_add),
        ipc_mode=_joinable(
            str(p.ipc), "--ipc", ("private", "shareable", "host", "none"), "private"
        ),
        pid_mode=_joinable(str(p.pid), "--pid", ("host",), ""),
        uts_mode=_mode(str(p.uts), "--uts", ("host",), ""),
        shm_size=values.parse_bytes(str(p.shm_size), "--shm-size") if p.shm_size else 64 << 20,
        tmpfs=tmpfs,  # --tmpfs alone, as Docker's HostConfig.Tmpfs; --mount's go to Mounts
        log_config=_log_config(p),
        restart_policy=restart_policy.parse(str(p.restart)),
        cgroup_parent=str(p.cgroup_parent),
        init=True if p.init else None,
        platform=str(p.platform),
        cpu_period=_number(p.cpu_period, "--cpu-period"),
        cpu_quota=_number(p.cpu_quota, "--cpu-quota"),
        blkio_weight=_number(p.blkio_weight, "--blkio-weight"),
        memory_swappiness=_int_or_none(str(p.memory_swappiness), "--memory-swappiness"),
        oom_kill_disable=bool(p.oom_kill_disable),
        oom_score_adj=_number(p.oom_score_adj, "--oom-score-adj"),
        device_cgroup_rules=list(p.device_cgroup_rule),
        cgroupns_mode=str(p.cgroupns),
        volumes_from=list(p.volumes_from),
        userns_mode=_userns(str(p.userns)),
        container_id_file=str(p.cidfile),
    )
    exposed = _network_options(p, host)
    entrypoint = None
    if "entrypoint" in p.given:
        entrypoint = [str(p.entrypoint)] if p.entrypoint else []
    req = CreateRequest(
        image=p.args[0],
        cmd=list(p.args[1:]) or None,
        entrypoint=entrypoint,
        name=str(p.name),
        env=env,
        labels=values.labels([*values.read_label_files(list(p.label_file)), *p.label]),
        working_dir=str(p.workdir) or None,
        user=str(p.user) if "user" in p.given else None,
        hostname=str(p.hostname),
        domainname=str(p.domainname),
        tty=bool(p.tty),
        open_stdin=bool(p.interactive),
        stop_signal=str(p.stop_signal),
        stop_timeout=_int_or_none(str(p.stop_timeout), "--stop-timeout"),
        mounts=mounts,
        host=host,
        pull=_pull_policy(str(p.pull)),
        platform=str(p.platform),
        network_aliases=list(p.network_alias),
        ip=str(p.ip),
        exposed_ports=exposed,
        mac_address=str(p.mac_address),
    )
    if p.no_healthcheck or any(
        (
            p.health_cmd,
            p.health_interval,
            p.health_timeout,
            p.health_start_period,
            p.health_start_interval,
            p.health_retries,
        )
    ):
        from dockyard.engine.health_config import from_flags

        req.healthcheck = from_flags(
            cmd=str(p.health_cmd),
            interval=str(p.health_interval),
            timeout=str(p.health_timeout),
            start_period=str(p.health_start_period),
            start_interval=str(p.health_start_interval),
            retries=str(p.health_retries),
            none=bool(p.no_healthcheck),
        )
    if req.stop_signal:
        from dockyard.runtime.signals import parse_signal

        parse_signal(req.stop_signal)
    return req, from_v


def _network_options(p: Parsed, host: HostConfig) -> list[str]:
    """-p, -P, --add-host and --dns* into ``host``; the ports --expose names."""
    from dockyard.engine.net_etc import parse_add_host
    from dockyard.engine.types import PortBinding
    from dockyard.network.ports import parse_expose, parse_publish

    for spec in p.publish:
        for port, host_ip, host_port, host_range in parse_publish(spec):
            host.port_bindings.setdefault(port, []).append(
                PortBinding(host_ip, host_port or host_range)
            )
    host.publish_all_ports = bool(p.publish_all)
    for item in p.add_host:
        parse_add_host(item)
    host.extra_hosts = list(p.add_host)
    host.dns = list(p.dns)
    host.dns_search = list(p.dns_search)
    host.dns_options = list(p.dns_option)
    exposed: list[str] = []
    for spec in p.expose:
        exposed += parse_expose(spec)
    return exposed


def _security_opts(opts: list[str]) -> list[str]:
    """seccomp=FILE becomes seccomp=<the file's JSON>, as Docker's client sends it."""
    out = []
    for opt in opts:
        key, sep, value = opt.replace(":", "=", 1).partition("=")
        if key == "seccomp" and sep and value != "unconfined":
            try:
                with open(value, encoding="utf-8") as f:
                    value = f.read()
            except OSError as exc:
                raise InvalidArgument(
                    f"opening seccomp profile ({value}) failed: {exc.strerror}"
                ) from None
            out.append(f"seccomp={value}")
        else:
            out.append(opt)
    return out


def exit_code_for(exc: Exception) -> int:
    """Docker's exit codes for a failed run/create: 127 not found, 126 not runnable, else 125."""
    from dockyard.cli.commands._terminal import NotATerminal
    from dockyard.engine.launch import StartFailed

    if isinstance(exc, NotATerminal):
        return 1
    if isinstance(exc, StartFailed):
        from dockyard.engine.lifecycle import start_exit_code

        code = start_exit_code(str(exc))
        return code if code in (126, 127) else 125
    return 125
