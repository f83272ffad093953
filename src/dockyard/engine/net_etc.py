"""What a container's /etc/hosts and /etc/resolv.conf say about its networks.

`etc_inputs` gathers it from the metadata (its address, ``--add-host``
with ``host-gateway`` resolved, ``--dns*``); engine/bundle.py writes the
files. ``--network container:X`` shares X's three files, as Docker does.

A container whose first network is a user-defined one gets the embedded
resolver (engine/net_dns.py) as its only nameserver, Docker's 127.0.0.11
with ``options ndots:0`` (`resolver_for`); its ``--dns`` servers become the
resolver's upstreams for it.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.network_types import NetworkRecord
    from dockyard.engine.types import ContainerRecord

HOST_GATEWAY = "host-gateway"


class EtcInputs:
    __slots__ = (
        "address",
        "dns",
        "dns_options",
        "dns_search",
        "extra_hosts",
        "resolver",
        "shared_dir",
    )

    def __init__(self) -> None:
        self.address = ""  # the container's address on its first network
        self.extra_hosts: list[tuple[str, str]] = []  # (address, names)
        self.dns: list[str] = []
        self.dns_search: list[str] = []
        self.dns_options: list[str] = []
        self.resolver = ""  # the embedded resolver's address, when one serves the network
        self.shared_dir = ""  # container:X: X's container directory (its files are used)


def parse_add_host(item: str) -> tuple[str, str]:
    """``--add-host NAME:IP`` (or ``NAME=IP``) -> (NAME, IP); IP may be ``host-gateway``."""
    sep = "=" if "=" in item else ":"
    name, found, address = item.partition(sep)
    if not found or not name or not address:
        raise InvalidArgument(f"bad format for add-host: {item!r}")
    if address != HOST_GATEWAY:
        from dockyard.network.ipam import valid_address

        if not valid_address(address) and ":" not in address:
            raise InvalidArgument(f"invalid IP address in add-host: {address!r}")
    return name, address


def resolver_for(net: NetworkRecord) -> str:
    """The nameserver of a container whose first network is ``net``: the embedded
    resolver on user-defined networks, "" (the host's resolvers) on the default bridge."""
    from dockyard.engine.net_dns import user_network

    if not user_network(net):
        return ""
    from dockyard.network.dns import ADDRESS

    return ADDRESS


def etc_inputs(engine: Engine, rec: ContainerRecord) -> EtcInputs:
    from dockyard.engine.net_attach import endpoints

    out = EtcInputs()
    mode = rec.host.network_mode
    if mode.startswith("container:"):
        out.shared_dir = engine.paths.container_dir(mode.partition(":")[2])
        return out
    pairs = endpoints(engine, rec.id) if mode != "host" else []
    if pairs:
        out.address = pairs[0][1].address
        if not pairs[0][0].default:
            out.resolver = resolver_for(pairs[0][0])
    for item in rec.host.extra_hosts:
        name, address = parse_add_host(item)
        if address == HOST_GATEWAY:
            address = engine.networks.find("bridge").gateway
        out.extra_hosts.append((address, name))
    out.dns = list(rec.host.dns)
    out.dns_search = list(rec.host.dns_search)
    out.dns_options = list(rec.host.dns_options)
    return out
