"""The host side of networks through pyroute2: bridges, host routes, and interface listings.

These run when a network is made or removed, or leftovers are looked for:
never on a container's start, where pyroute2's import (100 ms or more)
would be most of the run (linux/netlink.py wires containers instead).
Errors come out as ``OSError``, as pyroute2's ``NetlinkError`` is one.
"""

from __future__ import annotations

from dockyard.network.ipam import Subnet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

AF_INET = 2


class _IPRoute:
    """pyroute2's IPRoute, its NetlinkError (not an OSError) turned into one."""

    def __enter__(self) -> Any:
        try:
            from pyroute2 import IPRoute
        except ImportError as exc:
            raise OSError(
                2, f"pyroute2 is not installed ({exc}): pip install pyroute2, or scripts/setup"
            ) from exc

        self.ipr = IPRoute()
        return self.ipr

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self.ipr.close()
        from pyroute2.netlink.exceptions import NetlinkError

        if isinstance(value, NetlinkError):
            code = int(getattr(value, "code", 0) or 5)
            raise OSError(code, str(value)) from value


def _ipr() -> _IPRoute:
    return _IPRoute()


def host_routes() -> list[Subnet]:
    """The host's IPv4 routes in the main table, but the default one."""
    out = []
    with _ipr() as ipr:
        for route in ipr.get_routes(family=AF_INET, table=254):
            if route["dst_len"] == 0:
                continue
            out.append(Subnet.of(_int(route.get("dst")), route["dst_len"]))
    return out


def _int(address: str) -> int:
    from dockyard.network.ipam import to_int

    return to_int(address)


def create_bridge(name: str, address: str, prefixlen: int, mtu: int) -> None:
    """A bridge with its gateway address, up, its localhost routing allowed (see firewall.py)."""
    with _ipr() as ipr:
        ipr.link("add", ifname=name, kind="bridge", mtu=mtu)
        try:
            index = ipr.link_lookup(ifname=name)[0]
            ipr.addr("add", index=index, address=address, prefixlen=prefixlen)
            ipr.link("set", index=index, state="up")
            with open(f"/proc/sys/net/ipv4/conf/{name}/route_localnet", "w") as f:
                f.write("1")
        except BaseException:
            ipr.link("del", index=ipr.link_lookup(ifname=name)[0])
            raise


IP_FORWARD = "/proc/sys/net/ipv4/ip_forward"


def enable_forwarding() -> None:
    """Turn on IPv4 forwarding if it is off (what Docker's daemon does at start): NAT out
    of a bridge and ports published to other hosts need it."""
    with open(IP_FORWARD, "r+") as f:
        if f.read().strip() != "1":
            f.seek(0)
            f.write("1")


def delete_link(name: str) -> bool:
    with _ipr() as ipr:
        found = ipr.link_lookup(ifname=name)
        if not found:
            return False
        ipr.link("del", index=found[0])
        return True


def links() -> dict[str, str]:
    """Every interface on the host: name -> the name of its master ("" if none)."""
    with _ipr() as ipr:
        found = list(ipr.get_links())
    by_index = {link["index"]: link.get("ifname") for link in found}
    return {link.get("ifname"): by_index.get(link.get("master"), "") or "" for link in found}
