"""A container's networking: leases at create, namespace and interfaces at start, undone at exit.

    create  `plan`: the network mode checked, one lease per network in the
            transaction that records the container (a duplicate address is
            impossible: the endpoints table has UNIQUE (network, address))
    start   `prepare` before the runtime's create, `setup` once the namespace
            is at <run root>/netns/<id>: a veth per network, the published
            ports' rules (engine/net_ports.py), the embedded DNS told
            (engine/net_dns.py); any failure undoes all
    exit    `teardown`: rules, the namespace file (the kernel then removes its veths),
            the DNS told (its resolver lets go of the namespace); the leases stay
    rm      the record's deletion takes the leases with it (ON DELETE CASCADE)

Every mode but ``host`` and ``container:X`` gets a new namespace, which
the runtime makes as runc does for a spec without a path (its init is
cloned into it and brings loopback up); the process that created the init
keeps it at the container's file at once (`launch`), and `setup` wires it
while the init mounts, before ``start``: as Docker's prestart hook does,
off the run's critical path. ``container:X`` joins X's file by path. A
container with sysctls of its own under ``net.`` gets a namespace the
engine makes and wires before the runtime's create (the old way): its
init writes them into a namespace whose interfaces are all there, as in
Docker.
"""

from __future__ import annotations

import posix

from dockyard.engine.network_types import EndpointRecord, NetworkRecord
from dockyard.engine.networks import load, spec_of
from dockyard.engine.record import from_json, to_json
from dockyard.errors import Conflict, HostError, InvalidArgument
from dockyard.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.db import Transaction
    from dockyard.engine.engine import Engine
    from dockyard.engine.paths import EnginePaths
    from dockyard.engine.types import ContainerRecord
    from dockyard.network.backend import EndpointSpec


class NetworkRequest:
    """What ``run`` asked of the container's first network (Docker's EndpointsConfig)."""

    __slots__ = ("aliases", "ip")

    def __init__(self, aliases: list[str] | None = None, ip: str = "") -> None:
        self.aliases = list(aliases or [])
        self.ip = ip


def netns_path(paths: EnginePaths, rec: ContainerRecord) -> str:
    """The namespace file the container's processes join; "" on the host's network."""
    mode = rec.host.network_mode
    if mode == "host":
        return ""
    owner = mode[len("container:") :] if mode.startswith("container:") else rec.id
    return f"{paths.run_root}/netns/{owner}"


def runtime_makes_netns(rec: ContainerRecord) -> bool:
    """True when the runtime makes the container's namespace (see above)."""
    mode = rec.host.network_mode
    if mode == "host" or mode.startswith("container:"):
        return False
    return not any(key.startswith("net.") for key in rec.host.sysctls)


def spec_netns_path(paths: EnginePaths, rec: ContainerRecord) -> str:
    """The namespace file the runtime joins by path ("": none, it makes one or uses the
    host's)."""
    return "" if runtime_makes_netns(rec) else netns_path(paths, rec)


def _load_endpoint(doc: str) -> EndpointRecord:
    return from_json(EndpointRecord, jsonio.loads(doc))


def endpoints(engine: Engine, container_id: str) -> list[tuple[NetworkRecord, EndpointRecord]]:
    """The container's networks and its endpoint on each, in the order they were joined."""
    rows = engine.db.query(
        "SELECT n.doc, e.doc FROM endpoints e JOIN networks n ON n.id = e.network "
        "WHERE e.container = ?",
        (container_id,),
    )
    pairs = [(load(n), _load_endpoint(e)) for n, e in rows]
    pairs.sort(key=lambda pair: pair[1].order)
    return pairs


# ------------------------------------------------------------ create


def resolve_mode(engine: Engine, rec: ContainerRecord) -> NetworkRecord | None:
    """Check ``--network``; the bridge network it names (None for none, host, container:X)."""
    host = rec.host
    mode = host.network_mode or "default"
    if mode in ("none", "host"):
        # Docker ignores published ports there: nothing to forward to, or no need
        host.port_bindings, host.publish_all_ports = {}, False
        return None
    if mode.startswith("container:"):
        target = engine.containers.find(mode.partition(":")[2])
        if target.id == rec.id:
            raise InvalidArgument("cannot join own network namespace")
        if target.host.network_mode == "host":
            host.network_mode = "host"
            return None
        if host.port_bindings or host.publish_all_ports:
            raise InvalidArgument(
                "conflicting options: port publishing and the container type network mode"
            )
        if rec.config.mac_address:
            raise InvalidArgument("conflicting options: mac-address and the network mode")
        owner = target.host.network_mode
        host.network_mode = owner if owner.startswith("container:") else f"container:{target.id}"
        return None
    name = "bridge" if mode == "default" else mode
    net = engine.networks.find(name)
    if net.driver == "host":
        host.network_mode = "host"
        return None
    if net.driver == "null":
        host.network_mode = "none"
        return None
    host.network_mode = "bridge" if net.default else net.name
    return net


def plan(
    engine: Engine,
    tx: Transaction,
    rec: ContainerRecord,
    net: NetworkRecord | None,
    req: NetworkRequest,
) -> list[EndpointRecord]:
    """The container's lease on ``net`` (its first network), recorded in ``tx``."""
    if net is None:
        if req.ip or req.aliases:
            raise InvalidArgument(
                "user specified IP address or aliases are supported only for containers "
                "on a user defined network"
            )
        return []
    if net.default and (req.ip or req.aliases):
        raise InvalidArgument(
            "user specified IP address and network-scoped aliases are supported only on "
            "user defined networks"
        )
    return [lease(tx, rec.id, net, req, 0, rec.config.mac_address)]


def lease(
    tx: Transaction,
    container_id: str,
    net: NetworkRecord,
    req: NetworkRequest,
    order: int,
    mac: str = "",
) -> EndpointRecord:
    from dockyard.engine import names
    from dockyard.network import ipam

    subnet = ipam.Subnet(net.subnet)
    taken = {
        ipam.to_int(a)
        for (a,) in tx.query("SELECT address FROM endpoints WHERE network = ?", (net.id,))
    }
    if req.ip:
        if net.ip_range == "" and not net.subnet:
            raise InvalidArgument("user specified IP address needs a network with a subnet")
        address = ipam.claim(subnet, req.ip, taken, net.gateway)
    else:
        pool = ipam.Subnet(net.ip_range) if net.ip_range else None
        address = ipam.next_free(subnet, taken, pool, net.gateway)
    if mac and not ipam.valid_mac(mac):
        raise InvalidArgument(f"invalid MAC address: {mac}")
    ep = EndpointRecord(
        network_id=net.id,
        container_id=container_id,
        endpoint_id=names.new_id(),
        address=address,
        mac=mac.lower() or ipam.mac_for(address),
        aliases=list(req.aliases),
        host_ifname="dyv" + names.new_id()[:8],
        ifname=f"eth{order}",
        ip_requested=req.ip,
        order=order,
    )
    tx.execute(
        "INSERT INTO endpoints (network, container, address, doc) VALUES (?, ?, ?, ?)",
        (net.id, container_id, address, jsonio.dumps_compact(to_json(ep))),
    )
    return ep


# ------------------------------------------------------------ start and exit


def _spec(ep: EndpointRecord, first: bool) -> EndpointSpec:
    from dockyard.network.backend import EndpointSpec

    return EndpointSpec(ep.container_id, ep.host_ifname, ep.ifname, ep.address, ep.mac, first)


def prepare(engine: Engine, rec: ContainerRecord) -> str:
    """Before the runtime's create: the file where the namespace the runtime makes is to
    be kept ("" when there is none to keep; an engine-made one is wired here already)."""
    mode = rec.host.network_mode
    if mode == "host":
        return ""
    path = netns_path(engine.paths, rec)
    if mode.startswith("container:"):
        from dockyard.linux.netns import is_netns

        if not is_netns(path):
            owner = mode.partition(":")[2]
            raise Conflict(f"cannot join network of a non running container: {owner[:12]}")
        return ""
    if engine.db.query("SELECT 1 FROM published WHERE container = ? LIMIT 1", (rec.id,)):
        from dockyard.engine.net_ports import unpublish

        unpublish(engine, rec)  # a start killed before it could undo its ports
    from dockyard.engine.bundle import make_dir
    from dockyard.linux import netns

    make_dir(path.rpartition("/")[0], 0o711)
    netns.remove(path)  # a previous run's, if its cleanup never came
    if runtime_makes_netns(rec):
        return path
    try:
        netns.create(path)
    except OSError as exc:
        raise HostError(f"cannot make a network namespace at {path}: {exc.strerror}") from exc
    setup(engine, rec, 0)
    return ""


def setup(engine: Engine, rec: ContainerRecord, pid: int) -> None:
    """Everything the container's network needs before its process runs; undone on failure.

    ``pid``: the container's init, whose namespace goes to its file if the
    process that created it has not put it there already (a runtime binary)."""
    mode = rec.host.network_mode
    if mode == "host" or mode.startswith("container:"):
        return
    path = netns_path(engine.paths, rec)
    try:
        if pid:
            from dockyard.linux import netns

            if not netns.is_netns(path):
                keep_netns(pid, path)
        pairs = endpoints(engine, rec.id)
        first = True
        for net, ep in pairs:
            engine.networks.ready(net)
            engine.networks.backend.attach(
                path, spec_of(net), _spec(ep, first and not net.internal)
            )
            first = first and net.internal
        if not pairs and not runtime_makes_netns(rec):
            _loopback_up(path)  # (the runtime's init brings up its own)
        # (an --internal network publishes nothing, as Docker's)
        if (
            pairs
            and not pairs[0][0].internal
            and (rec.host.port_bindings or rec.host.publish_all_ports)
        ):
            from dockyard.engine.net_ports import publish

            publish(engine, rec, pairs[0][0], pairs[0][1])
        from dockyard.engine.net_dns import needs_dns

        if needs_dns(pairs):
            from dockyard.engine.net_dns import join

            join(engine, rec.id)  # answered at 127.0.0.11 before its first process runs
    except BaseException:
        teardown(engine, rec)
        raise


def keep_netns(pid: int, path: str) -> None:
    """Keep the namespace of the runtime's new init at ``path``."""
    from dockyard.linux import netns

    try:
        netns.bind(pid, path)
    except OSError as exc:
        raise HostError(
            f"cannot keep the container's network namespace at {path}: {exc.strerror}"
        ) from exc


def _loopback_up(path: str) -> None:
    from dockyard.linux import netns
    from dockyard.linux.netlink import Netlink

    with netns.entered(path):
        nl = Netlink()
    with nl:
        nl.set_link(1, up=True)


def teardown(engine: Engine, rec: ContainerRecord) -> None:
    """Undo `setup` (idempotent): published ports, the namespace file and with it the
    veths. Leases stay."""
    mode = rec.host.network_mode
    if mode == "host" or mode.startswith("container:"):
        return
    errors = []
    if engine.db.query("SELECT 1 FROM published WHERE container = ? LIMIT 1", (rec.id,)):
        from dockyard.engine.net_ports import unpublish

        try:
            unpublish(engine, rec)
        except HostError as exc:
            errors.append(str(exc))
    # The veths go with the namespace: once its file is unmounted and its processes are
    # gone, the kernel dismantles it (and them) in the background, within some 40 ms.
    # Deleting a veth ourselves waits for that (15-45 ms here), most of a run's budget.
    from dockyard.linux import netns

    try:
        netns.remove(netns_path(engine.paths, rec))
    except OSError as exc:
        errors.append(f"cannot remove the network namespace of {rec.id[:12]}: {exc}")
    from dockyard.engine.net_dns import leave

    try:
        leave(engine, rec.id)  # the resolver lets go of the namespace
    except HostError as exc:
        errors.append(str(exc))
    if errors:
        raise HostError("; ".join(errors))


def running_netns(engine: Engine, rec: ContainerRecord) -> str:
    """The namespace file of a running container (for connect), or ""."""
    path = netns_path(engine.paths, rec)
    return path if path and posix.access(path, posix.F_OK) else ""
