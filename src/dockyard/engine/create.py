"""``create``: an image and run options -> a container record, its volumes, rootfs and bundle.

The record is committed first (its name is then taken, atomically), then
the root filesystem and bundle are made; if anything after the commit
fails, everything made so far is undone, record included. A CLI killed
half-way leaves a record whose bundle ``start`` completes, or that ``rm``
removes whole.
"""

from __future__ import annotations

from dockyard.engine import bundle, names
from dockyard.engine.clock import rfc3339_now
from dockyard.engine.record import field, record
from dockyard.engine.status import Status
from dockyard.engine.types import ContainerRecord, HealthConfig, HostConfig, MountPoint
from dockyard.errors import InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from dockyard.engine.engine import Engine
    from dockyard.engine.image_facts import ImageFacts
    from dockyard.oci.image_spec import Platform


@record
class CreateRequest:
    """Everything ``docker create``/``run`` takes that shapes the container."""

    image: str
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    name: str = ""
    env: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    working_dir: str | None = None
    user: str | None = None
    hostname: str = ""
    domainname: str = ""
    tty: bool = False
    open_stdin: bool = False
    attach: bool = False  # a foreground run: stdout/stderr (and stdin with -i) attached
    stop_signal: str = ""
    stop_timeout: int | None = None
    mounts: list[MountPoint] = field(default_factory=list)
    host: HostConfig = field(default_factory=HostConfig)
    pull: str = "missing"
    platform: str = ""
    network_aliases: list[str] = field(default_factory=list)  # --network-alias
    ip: str = ""  # --ip
    exposed_ports: list[str] = field(default_factory=list)  # --expose, and each -p's port
    mac_address: str = ""  # --mac-address
    healthcheck: HealthConfig | None = None  # --health-*, --no-healthcheck


HOSTNAME_MAX = 63


def _host_hostname() -> str:
    import posix

    return posix.uname().nodename


def _check(req: CreateRequest) -> None:
    host = req.host
    from dockyard.engine import restart_policy

    restart_policy.validate(host.restart_policy)
    from dockyard.engine import spec_resources

    spec_resources.check(host)
    if host.container_id_file and _exists(host.container_id_file):
        raise InvalidArgument(
            "Container ID file found, make sure the other container isn't running or delete "
            f"{host.container_id_file}"
        )
    if host.auto_remove and not restart_policy.is_none(host.restart_policy):
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    if req.hostname and (len(req.hostname) > HOSTNAME_MAX or "/" in req.hostname):
        raise InvalidArgument(f"invalid hostname format: {req.hostname}")
    # Docker's daemon (runconfig's validateNetMode): a joined network has the other
    # container's hostname and the host's UTS namespace has the host's; --network host
    # keeps a UTS namespace of the container's own, so -h is allowed there
    if req.hostname and host.network_mode.startswith("container:"):
        raise InvalidArgument("conflicting options: hostname and the network mode")
    if req.hostname and host.uts_mode == "host":
        raise InvalidArgument("conflicting options: hostname and the UTS mode")
    for opt in host.security_opt:
        key, _, value = opt.replace(":", "=", 1).partition("=")
        if key not in ("seccomp", "no-new-privileges", "label", "apparmor"):
            raise InvalidArgument(f"Invalid --security-opt: {opt!r}")
        if key in ("label", "apparmor") and value not in ("disable", "unconfined"):
            raise InvalidArgument(
                f"--security-opt {opt}: this host has no SELinux or AppArmor support in Dockyard"
            )


def _image_for_platform(engine: Engine, req: CreateRequest, out: TextIO) -> tuple[str, ImageFacts]:
    """``--platform``: the image if it is for that platform, else (``--pull missing``) that
    platform pulled in its place, as Docker's CLI does when the daemon answers that the
    image it has "does not match the specified platform"."""
    from dockyard.image import platform
    from dockyard.oci.image_spec import Platform

    wanted = platform.parse_platform(req.platform)
    had = req.pull == "missing" and _has_image(engine, req.image)
    image_id = engine.images.ensure(req.image, req.pull, out, req.platform)
    facts = engine.images.facts(image_id)
    actual = Platform(os=facts.os or "linux", architecture=facts.architecture)
    if facts.architecture and not platform.matches(wanted, actual) and had:
        from dockyard.image import reference

        ref = reference.parse(req.image)
        out.write(f"Unable to find image '{ref.familiar}' locally\n")
        image_id = engine.images.pull(str(ref), out, platform=req.platform)
        facts = engine.images.facts(image_id)
        actual = Platform(os=facts.os or "linux", architecture=facts.architecture)
    if facts.architecture and not platform.matches(wanted, actual):
        raise NotFound(
            f"image with reference {req.image} was found but does not match the specified "
            f"platform: wanted {_format(wanted)}, actual: {_format(actual)}"
        )
    return image_id, facts


def _has_image(engine: Engine, name: str) -> bool:
    if engine.images.quick_find(name) is not None:
        return True
    try:
        engine.images.find(name)
    except NotFound:
        return False
    return True


def _format(p: Platform) -> str:
    return "/".join(x for x in (p.os, p.architecture, p.variant) if x)


def _exists(path: str) -> bool:
    import posix

    try:
        posix.stat(path)
    except FileNotFoundError:
        return False
    return True


def _volumes_from(engine: Engine, items: list[str]) -> list[MountPoint]:
    """--volumes-from CONTAINER[:ro|:rw]: its volumes and binds at the same places (its own
    anonymous volumes shared by name, so removing this one never takes them)."""
    out: list[MountPoint] = []
    for item in items:
        name, _, mode = item.partition(":")
        if mode not in ("", "ro", "rw"):
            raise InvalidArgument(f"invalid mode for volumes-from: {mode}")
        source = engine.containers.find(name)
        for m in source.mounts:
            if m.type == "tmpfs":
                continue
            copied = MountPoint(
                m.type, m.destination, m.source, m.name,
                m.read_only if not mode else mode == "ro",
                propagation=m.propagation, no_copy=True,
            )  # fmt: skip
            out.append(copied)
    return out


def _mounts(
    req: CreateRequest, image_volumes: list[str], inherited: list[MountPoint]
) -> list[MountPoint]:
    """The user's mounts, those of --volumes-from where the user put none, then an anonymous
    volume for each image VOLUME none of them covers."""
    out: list[MountPoint] = []
    seen: set[str] = set()
    for m in req.mounts:
        if m.destination in seen:
            raise InvalidArgument(f"Duplicate mount point: {m.destination}")
        seen.add(m.destination)
        out.append(m)
    for m in inherited:
        if m.destination not in seen:
            seen.add(m.destination)
            out.append(m)
    for path in image_volumes:
        dest = "/" + path.strip("/")
        if dest not in seen:
            seen.add(dest)
            out.append(MountPoint("volume", dest, anonymous=True))
    return out


def _prepare_binds(mounts: list[MountPoint], binds_from_v: set[str]) -> None:
    """-v makes a missing host directory (Docker's old rule); --mount wants it to exist."""
    import posix

    for m in mounts:
        if m.type != "bind":
            continue
        try:
            posix.stat(m.source)
        except FileNotFoundError:
            if m.destination in binds_from_v:
                bundle.make_dir(m.source, 0o755)
            else:
                raise InvalidArgument(
                    f'invalid mount config for type "bind": bind source path does not exist: '
                    f"{m.source}"
                ) from None


def create(
    engine: Engine,
    req: CreateRequest,
    out: TextIO,
    binds_from_v: set[str] | None = None,
    start: bool = False,
) -> ContainerRecord:
    """Make the container; ``out`` gets the pull output if the image has to be pulled.
    ``start``: and start it (``run -d``), under the same hold of its lock."""
    from dockyard.engine.image_facts import merge

    _check(req)
    from dockyard.engine import spec_resources

    spec_resources.settle(req.host, out.write)
    if req.name:
        req.name = names.check_name(req.name)
    if req.platform:
        image_id, facts = _image_for_platform(engine, req, out)
    else:
        image_id = engine.images.ensure(req.image, req.pull, out)
        facts = engine.images.facts(image_id)
    config = merge(
        facts,
        req.image,
        cmd=req.cmd,
        entrypoint=req.entrypoint,
        env=req.env,
        user=req.user,
        working_dir=req.working_dir,
        labels=req.labels,
        stop_signal=req.stop_signal,
    )
    if not (config.entrypoint or config.cmd):
        raise InvalidArgument("no command specified")
    if req.healthcheck is not None or facts.healthcheck is not None:
        from dockyard.engine import health_config

        config.healthcheck = health_config.merge(req.healthcheck, facts.healthcheck)
        health_config.validate(config.healthcheck)
    container_id = names.new_id()
    for port in [*req.exposed_ports, *req.host.port_bindings]:
        if port not in config.exposed_ports:
            config.exposed_ports.append(port)
    config.mac_address = req.mac_address
    rec = ContainerRecord(
        id=container_id,
        name=req.name,
        image_id=image_id,
        created="",
        status=Status.CREATED,
        config=config,
        host=req.host,
    )
    from dockyard.engine.net_attach import NetworkRequest, plan, resolve_mode

    network = resolve_mode(engine, rec)  # req.host.network_mode made canonical
    from dockyard.engine.ipc import resolve

    resolve(engine, req.host)  # --ipc container:NAME -> container:ID
    if req.host.network_mode == "host":
        config.hostname = req.hostname or _host_hostname()
    elif req.host.network_mode.startswith("container:"):
        config.hostname = engine.containers.get(req.host.network_mode[10:]).config.hostname
    else:
        config.hostname = req.hostname or container_id[:12]
    config.domainname = req.domainname
    config.tty = req.tty
    config.open_stdin = req.open_stdin
    config.stdin_once = req.open_stdin and req.attach
    config.attach_stdin = req.open_stdin and req.attach
    config.attach_stdout = config.attach_stderr = req.attach
    config.stop_timeout = req.stop_timeout
    if not req.host.cgroup_parent:
        req.host.cgroup_parent = engine.cgroup_parent
    if not req.host.runtime:
        req.host.runtime = engine.default_runtime
    if req.host.runtime == "dockyard-runtime":
        req.host.runtime = "dockyard"
    engine.runtime_for(req.host.runtime)  # an unknown --runtime fails before anything is made
    mounts = _mounts(req, facts.volumes, _volumes_from(engine, req.host.volumes_from))
    _prepare_binds(mounts, binds_from_v or set())
    rec = ContainerRecord(
        id=container_id,
        name=req.name,
        image_id=image_id,
        created=rfc3339_now(),
        status=Status.CREATED,
        config=config,
        host=req.host,
        mounts=mounts,
        # the driver the snapshot will have: recorded with the rest, so the record needs
        # no second write once the snapshot and bundle are made
        driver=engine.images.snapshots.driver,
    )
    new_volumes: list[str] = []
    # Locked from before its record exists: a rm -f that finds the record waits for the
    # snapshot and bundle to be made, then removes them too (never the record alone).
    with engine.lock(rec.id):
        with engine.db.transaction() as tx:
            new_volumes = engine.volumes.attach(tx, rec.id, rec.mounts)
            engine.containers.insert(rec, tx)
            plan(engine, tx, rec, network, NetworkRequest(req.network_aliases, req.ip))
        try:
            rootfs = bundle.mount_rootfs(engine.images, rec)
            for m in rec.mounts:
                if m.type == "volume" and m.name in new_volumes and not m.no_copy:
                    from dockyard.engine.volumes import seed

                    seed(m.source, rootfs, m.destination)
            from dockyard.engine.net_etc import etc_inputs

            bundle.write_bundle(engine.paths, rec, rootfs, etc_inputs(engine, rec))
            if req.host.container_id_file:
                with open(req.host.container_id_file, "x", encoding="utf-8") as f:
                    f.write(rec.id)  # Docker's CLI writes the id alone, no newline
        except BaseException:
            from dockyard.engine.remove import remove_everything

            remove_everything(engine, rec, volumes=True)
            raise
        if start:
            return _start_new(engine, rec, new_volumes)
    _announce(engine, rec, new_volumes)
    return rec


def _announce(engine: Engine, rec: ContainerRecord, new_volumes: list[str]) -> None:
    from dockyard.engine.events import container_event

    for name in new_volumes:
        engine.volumes.event(name, "create")
    container_event(engine, rec, "create")


def _start_new(engine: Engine, rec: ContainerRecord, new_volumes: list[str]) -> ContainerRecord:
    """Start the container just made (the caller holds its lock; its events are written
    while the runtime creates it). A start that fails leaves it created, with the
    error, as Docker's ``run -d`` does; ``--rm`` removes it."""
    from dockyard.engine.lifecycle import start_created

    try:
        return start_created(engine, rec, lambda: _announce(engine, rec, new_volumes))
    except BaseException:
        if rec.host.auto_remove:
            from dockyard.engine.remove import remove_everything

            try:
                current = engine.containers.get(rec.id)
            except Exception:
                current = rec
            remove_everything(engine, current, volumes=True)
        raise
