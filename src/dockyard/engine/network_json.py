"""Networks and a container's network settings as Docker's JSON (``inspect``), key for key."""

from __future__ import annotations

from dockyard.engine.net_attach import endpoints, netns_path
from dockyard.engine.net_dns import dns_names as dns_names_of
from dockyard.engine.net_dns import user_network
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.engine.engine import Engine
    from dockyard.engine.network_types import EndpointRecord, NetworkRecord
    from dockyard.engine.types import ContainerRecord

LIVE = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


def _endpoint(
    net: NetworkRecord, ep: EndpointRecord | None, rec: ContainerRecord, live: bool
) -> dict[str, Any]:
    """One entry of NetworkSettings.Networks; a stopped container has no endpoint (Docker)."""
    up = live and ep is not None
    ipam = {"IPv4Address": ep.ip_requested} if ep is not None and ep.ip_requested else None
    dns_names = None
    if ep is not None and user_network(net):
        dns_names = dns_names_of(rec, ep)
    return {
        "IPAMConfig": ipam,
        "Links": None,
        "Aliases": list(ep.aliases) if ep is not None and ep.aliases else None,
        "MacAddress": ep.mac if up and ep else "",
        "DriverOpts": None,
        "NetworkID": net.id,
        "EndpointID": ep.endpoint_id if up and ep else "",
        "Gateway": net.gateway if up and not net.internal else "",
        "IPAddress": ep.address if up and ep else "",
        "IPPrefixLen": net.prefixlen if up else 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": dns_names,
    }


def network_settings(engine: Engine, rec: ContainerRecord, status: str) -> dict[str, Any]:
    from dockyard.engine.net_ports import port_map

    live = status in LIVE
    networks: dict[str, Any] = {}
    top: dict[str, Any] = {}
    mode = rec.host.network_mode
    if mode in ("host", "none", "default"):
        name = "none" if mode == "default" else mode
        try:
            networks[name] = _endpoint(engine.networks.find(name), None, rec, live)
        except Exception:
            pass
    for net, ep in endpoints(engine, rec.id):
        entry = _endpoint(net, ep, rec, live)
        networks[net.name] = entry
        if net.default:
            top = entry  # Docker fills the top-level fields for the default bridge only
    sandbox = netns_path(engine.paths, rec) if live and not mode.startswith("container:") else ""
    return {
        "Bridge": "",
        "SandboxID": rec.id if sandbox else "",
        "SandboxKey": sandbox,
        "Ports": port_map(engine, rec) if live else {},
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": top.get("EndpointID", ""),
        "Gateway": top.get("Gateway", ""),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": top.get("IPAddress", ""),
        "IPPrefixLen": top.get("IPPrefixLen", 0),
        "IPv6Gateway": "",
        "MacAddress": top.get("MacAddress", ""),
        "Networks": networks,
    }


def network_json(engine: Engine, net: NetworkRecord) -> dict[str, Any]:
    from dockyard.engine.exits import current_status
    from dockyard.engine.net_attach import _load_endpoint

    containers: dict[str, Any] = {}
    rows = engine.db.query("SELECT container, doc FROM endpoints WHERE network = ?", (net.id,))
    for container_id, doc in rows:
        try:
            rec = engine.containers.get(container_id)
        except Exception:
            continue
        if current_status(engine, rec) not in LIVE:
            continue
        ep = _load_endpoint(doc)
        containers[container_id] = {
            "Name": rec.name,
            "EndpointID": ep.endpoint_id,
            "MacAddress": ep.mac,
            "IPv4Address": f"{ep.address}/{net.prefixlen}",
            "IPv6Address": "",
        }
    config: list[dict[str, str]] = []
    if net.subnet:
        entry = {"Subnet": net.subnet}
        if net.ip_range:
            entry["IPRange"] = net.ip_range
        entry["Gateway"] = net.gateway
        config.append(entry)
    return {
        "Name": net.name,
        "Id": net.id,
        "Created": net.created,
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None if net.default else {}, "Config": config},
        "Internal": net.internal,
        "Attachable": net.attachable,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": containers,
        "Options": dict(net.options),
        "Labels": dict(net.labels),
    }
