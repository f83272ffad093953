"""`NetworkBackend`: what the engine asks of a network driver, and the typed data it hands over.

The engine owns the records (networks, leases, port bindings, all in its
database) and decides; a backend only makes the host match: a network's
bridge and firewall table, a container's namespace, its interface and
address in it, and its published ports. Every undo is idempotent and
quiet about what is already gone, so a run killed half-way is finished by
whoever comes next.

Plain classes rather than dataclasses: they are built on every ``run``,
and ``dataclasses`` costs ~10 ms to import.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol
else:
    Protocol = object


#: ``0`` turns off the host's connect-time redirect to published ports and BIG TCP on
#: the bridges and host veths (network/port_redirect.py): the DNAT path alone, as before
REDIRECT_ENV = "DOCKYARD_PORT_REDIRECT"
#: BIG TCP's IPv4 GSO/GRO size on a bridge and a container's host veth (Cilium's default)
BIG_TCP_SIZE = 185000


def redirect_enabled() -> bool:
    import posix

    value = posix.environ.get(REDIRECT_ENV.encode(), b"1")
    return value.lower() not in (b"0", b"false", b"no", b"off")


class NetworkSpec:
    """A network as its driver needs it."""

    __slots__ = (
        "bridge",
        "gateway",
        "id",
        "internal",
        "masquerade",
        "mtu",
        "name",
        "prefixlen",
        "subnet",
    )

    def __init__(
        self,
        id: str,
        name: str,
        bridge: str,
        subnet: str,
        gateway: str,
        mtu: int = 1500,
        internal: bool = False,
        masquerade: bool = True,
    ) -> None:
        self.id = id
        self.name = name
        self.bridge = bridge
        self.subnet = subnet
        self.prefixlen = int(subnet.partition("/")[2] or 32)
        self.gateway = gateway
        self.mtu = mtu
        self.internal = internal
        self.masquerade = masquerade  # com.docker.network.bridge.enable_ip_masquerade

    @property
    def table(self) -> str:
        """The network's own nftables table (family ip)."""
        return f"dockyard-{self.id[:12]}"


class EndpointSpec:
    """One container's interface on one network."""

    __slots__ = ("address", "container_id", "default_route", "host_ifname", "ifname", "mac")

    def __init__(
        self,
        container_id: str,
        host_ifname: str,
        ifname: str,
        address: str,
        mac: str,
        default_route: bool = True,
    ) -> None:
        self.container_id = container_id
        self.host_ifname = host_ifname  # the veth end on the host, in the bridge
        self.ifname = ifname  # eth0, eth1, ... in the container
        self.address = address
        self.mac = mac
        self.default_route = default_route


class PortRule:
    """A published port: HOST_IP:HOST_PORT/PROTO -> CONTAINER_IP:CONTAINER_PORT."""

    __slots__ = ("container_ip", "container_port", "host_ip", "host_port", "proto")

    def __init__(
        self, host_ip: str, host_port: int, proto: str, container_ip: str, container_port: int
    ) -> None:
        self.host_ip = host_ip  # "" or 0.0.0.0: every local address
        self.host_port = host_port
        self.proto = proto
        self.container_ip = container_ip
        self.container_port = container_port


class Leftovers:
    """What `NetworkBackend.leftovers` found that no live network or container owns."""

    __slots__ = ("interfaces", "rule_owners", "tables")

    def __init__(self) -> None:
        self.interfaces: list[str] = []
        self.tables: list[str] = []
        self.rule_owners: list[tuple[str, str]] = []  # (table, container id)


class NetworkBackend(Protocol):
    """One driver's operations (network/bridge.py is the one there is)."""

    def create_network(self, net: NetworkSpec) -> None:
        """The bridge, its address, and the firewall table; fails if the name is taken."""

    def network_exists(self, net: NetworkSpec) -> bool:
        """Cheap: is its bridge there (a reboot or a killed create may have lost it)?"""

    def remove_network(self, net: NetworkSpec) -> None: ...

    def attach(self, netns_path: str, net: NetworkSpec, ep: EndpointSpec) -> None:
        """The container's interface in the namespace at ``netns_path``, addressed and up."""

    def detach(self, net: NetworkSpec, ep: EndpointSpec) -> None: ...

    def publish(self, net: NetworkSpec, container_id: str, rules: list[PortRule]) -> None: ...

    def unpublish(self, net: NetworkSpec, container_id: str) -> None: ...

    def leftovers(
        self,
        nets: list[NetworkSpec],
        owned: Callable[[], tuple[set[str], set[str]]],
        remove: bool,
    ) -> Leftovers:
        """Interfaces in ``nets``' bridges and port rules that nobody owns: ``owned()``
        (interfaces, containers that are someone's) is asked after each listing of the
        host, so what was made since it began is owned."""
