"""``network connect`` and ``disconnect``: a container joins or leaves a network, running or not.

A running container gets (or loses) its interface, and its name on the
network's DNS, at once; a stopped one only its lease, wired at its next
start. Under the container's lock, so a start or a removal never sees half
of it.
"""

from __future__ import annotations

from dockyard.engine.exits import current_status
from dockyard.engine.net_attach import NetworkRequest, _spec, endpoints, lease, running_netns
from dockyard.engine.net_dns import join, leave, needs_dns, sync, user_network
from dockyard.engine.networks import spec_of
from dockyard.engine.status import Status
from dockyard.errors import Conflict, HostError, InvalidArgument, NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.network_types import NetworkRecord

LIVE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def connect(
    engine: Engine, container: str, network: str, aliases: list[str] | None = None, ip: str = ""
) -> None:
    rec = engine.containers.find(container)
    net = engine.networks.find(network)
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        mode = rec.host.network_mode
        if mode == "host" or mode.startswith("container:") or net.driver in ("host", "null"):
            raise Conflict(
                "container sharing network namespace with another container or host cannot "
                "be connected to any other network"
            )
        if mode == "none":
            raise Conflict(
                f"container cannot be connected to network {net.name}: it runs with --network none"
            )
        if net.default and (ip or aliases):
            raise InvalidArgument(
                "user specified IP address and network-scoped aliases are supported only on "
                "user defined networks"
            )
        pairs = endpoints(engine, rec.id)
        if any(n.id == net.id for n, _ in pairs):
            raise Conflict(f"endpoint with name {rec.name} already exists in network {net.name}")
        order = max((e.order for _, e in pairs), default=-1) + 1
        with engine.db.transaction() as tx:
            ep = lease(tx, rec.id, net, NetworkRequest(aliases, ip), order)
        path = running_netns(engine, rec) if current_status(engine, rec) in LIVE else ""
        if not path:
            return
        try:
            engine.networks.ready(net)
            engine.networks.backend.attach(path, spec_of(net), _spec(ep, False))
            if user_network(net):
                join(engine, rec.id)  # its name on the network, and its own resolver
        except BaseException:
            engine.networks.backend.detach(spec_of(net), _spec(ep, False))
            with engine.db.transaction() as tx:
                tx.execute(
                    "DELETE FROM endpoints WHERE network = ? AND container = ?", (net.id, rec.id)
                )
            if user_network(net):
                try:
                    if needs_dns(endpoints(engine, rec.id)):
                        sync(engine)
                    else:
                        leave(engine, rec.id)
                except HostError:
                    pass  # the first error is the one to report; system check repairs
            raise
        _event(engine, net, rec.id, "connect")


def disconnect(engine: Engine, container: str, network: str, force: bool = False) -> None:
    net = engine.networks.find(network)
    try:
        rec = engine.containers.find(container)
    except NotFound:
        if not force:
            raise
        return
    with engine.lock(rec.id):
        rec = engine.containers.get(rec.id)
        found = [(n, e) for n, e in endpoints(engine, rec.id) if n.id == net.id]
        if not found:
            raise Conflict(f"container {rec.id[:12]} is not connected to network {net.name}")
        _, ep = found[0]
        if ep.order == 0 and rec.host.port_bindings and current_status(engine, rec) in LIVE:
            from dockyard.engine.net_ports import unpublish

            unpublish(engine, rec)
        engine.networks.backend.detach(spec_of(net), _spec(ep, False))
        with engine.db.transaction() as tx:
            tx.execute(
                "DELETE FROM endpoints WHERE network = ? AND container = ?", (net.id, rec.id)
            )
        if user_network(net) and running_netns(engine, rec):
            if needs_dns(endpoints(engine, rec.id)):
                sync(engine)  # gone from this network's names, still on others
            else:
                leave(engine, rec.id)
        if current_status(engine, rec) in LIVE:
            _event(engine, net, rec.id, "disconnect")


def _event(engine: Engine, net: NetworkRecord, container_id: str, action: str) -> None:
    """Docker's network connect/disconnect event (a running container's)."""
    from dockyard.engine.events import network_event

    attributes = {"container": container_id, "name": net.name, "type": net.driver}
    network_event(engine, net.id, action, attributes)
