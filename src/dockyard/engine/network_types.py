"""The engine's network records: a network, and one container's endpoint on it.

Stored as JSON in the ``networks`` and ``endpoints`` tables (engine/db.py);
the columns beside the JSON (name, address) carry the uniqueness the
database enforces.
"""

from __future__ import annotations

from dockyard.engine.record import field, record


@record
class NetworkRecord:
    id: str
    name: str
    driver: str  # bridge, host, null
    created: str
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    bridge: str = ""  # the host interface
    mtu: int = 1500
    internal: bool = False
    attachable: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    default: bool = False  # the default bridge network (Docker's "bridge")

    @property
    def prefixlen(self) -> int:
        return int(self.subnet.partition("/")[2] or 0)


@record
class EndpointRecord:
    """A container on a network: its lease and interface."""

    network_id: str
    container_id: str
    endpoint_id: str
    address: str
    mac: str = ""
    aliases: list[str] = field(default_factory=list)
    host_ifname: str = ""  # the veth end in the bridge
    ifname: str = ""  # eth0, eth1, ... inside
    ip_requested: str = ""  # --ip, kept for inspect's IPAMConfig
    order: int = 0
