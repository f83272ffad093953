"""IPv4 address management as arithmetic: subnets, gateways, ranges, the next free address.

Which addresses are taken lives in the engine's database; the engine asks
`next_free` inside the transaction that records the lease, so two
containers started at once can never get the same address. Nothing here
imports ``ipaddress`` (about 5 ms, on every ``run``).
"""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument

#: Docker's default bridge subnet, then the pools it takes user networks from
DEFAULT_BRIDGE_SUBNET = "172.17.0.0/16"
DEFAULT_POOLS = [
    ("172.17.0.0/16", 16),
    ("172.18.0.0/15", 16),
    ("172.20.0.0/14", 16),
    ("172.24.0.0/13", 16),
    ("192.168.0.0/16", 20),
]


def to_int(address: str) -> int:
    parts = address.split(".")
    if len(parts) != 4:
        raise ValueError(address)
    value = 0
    for part in parts:
        if not part.isdigit() or int(part) > 255 or (len(part) > 1 and part[0] == "0"):
            raise ValueError(address)
        value = value << 8 | int(part)
    return value


def to_str(value: int) -> str:
    return ".".join(str(value >> shift & 0xFF) for shift in (24, 16, 8, 0))


def valid_address(address: str) -> bool:
    try:
        to_int(address)
    except ValueError:
        return False
    return True


class Subnet:
    """An IPv4 network: ``Subnet("10.1.0.0/16")``; host bits in the text are refused."""

    __slots__ = ("network", "prefixlen")

    def __init__(self, cidr: str) -> None:
        address, slash, bits = cidr.partition("/")
        try:
            self.network = to_int(address)
            self.prefixlen = int(bits) if slash else -1
        except ValueError:
            raise InvalidArgument(f"invalid subnet {cidr}: not an IPv4 CIDR") from None
        if not 0 <= self.prefixlen <= 32:
            raise InvalidArgument(f"invalid subnet {cidr}: not an IPv4 CIDR")
        if self.network & ~self.mask & 0xFFFFFFFF:
            raise InvalidArgument(f"invalid subnet {cidr}: it has host bits set (use {self})")

    @classmethod
    def of(cls, network: int, prefixlen: int) -> Subnet:
        return cls(f"{to_str(network & (0xFFFFFFFF << (32 - prefixlen)) & 0xFFFFFFFF)}/{prefixlen}")

    @property
    def mask(self) -> int:
        return (0xFFFFFFFF << (32 - self.prefixlen)) & 0xFFFFFFFF if self.prefixlen else 0

    @property
    def broadcast(self) -> int:
        return self.network | (~self.mask & 0xFFFFFFFF)

    def __contains__(self, address: int) -> bool:
        return address & self.mask == self.network

    def overlaps(self, other: Subnet) -> bool:
        return self.network in other or other.network in self

    def inside(self, other: Subnet) -> bool:
        return self.network in other and self.prefixlen >= other.prefixlen

    def __str__(self) -> str:
        # the network with host bits cleared, whatever was asked
        return f"{to_str(self.network & self.mask)}/{self.prefixlen}"


def first_host(subnet: Subnet) -> str:
    return to_str(subnet.network + 1)


def check_in(subnet: Subnet, address: str, what: str) -> int:
    try:
        value = to_int(address)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {address}: not an IPv4 address") from None
    if value not in subnet:
        raise InvalidArgument(f"no matching subnet for {what} {address} (the subnet is {subnet})")
    return value


def next_free(
    subnet: Subnet, taken: set[int], ip_range: Subnet | None = None, gateway: str = ""
) -> str:
    """The lowest free host address (in ``ip_range`` if given): never the network,
    broadcast or gateway address, nor one in ``taken``."""
    pool = ip_range or subnet
    reserved = {subnet.network, subnet.broadcast}
    if gateway:
        reserved.add(to_int(gateway))
    low = max(pool.network, subnet.network + 1)
    high = min(pool.broadcast, subnet.broadcast - 1) if subnet.prefixlen < 31 else pool.broadcast
    for value in range(low, high + 1):
        if value not in taken and value not in reserved:
            return to_str(value)
    raise Conflict(f"no available IPv4 addresses on this network's address pools ({subnet})")


def claim(subnet: Subnet, address: str, taken: set[int], gateway: str = "") -> str:
    """``--ip ADDRESS``: that address, if it is in the subnet and nobody has it."""
    value = check_in(subnet, address, "address")
    if value in taken or value in (subnet.network, subnet.broadcast) or address == gateway:
        raise Conflict(f"Address already in use: {address}")
    return address


def pick_subnet(pools: list[tuple[str, int]], used: list[Subnet], avoid: list[Subnet]) -> Subnet:
    """The first block of each pool's size that overlaps no network in ``used`` and
    no host route in ``avoid`` (Docker's address pools, walked in order)."""
    for base, size in pools:
        pool = Subnet(base)
        step = 1 << (32 - size)
        candidate = pool.network
        while candidate + step - 1 <= pool.broadcast:
            block = Subnet.of(candidate, size)
            if not any(block.overlaps(u) for u in used) and not any(
                block.overlaps(a) for a in avoid
            ):
                return block
            candidate += step
    raise Conflict(
        "all predefined address pools have been fully subnetted "
        "(give one with --subnet, or remove unused networks)"
    )


def parse_pools(text: str) -> list[tuple[str, int]]:
    """``DOCKYARD_ADDRESS_POOLS``: ``BASE/LEN:SIZE[,...]``, e.g. ``10.88.0.0/16:24``."""
    pools = []
    for item in text.split(","):
        base, _, size = item.strip().partition(":")
        subnet = Subnet(base)
        bits = int(size) if size.isdigit() else 24
        if not subnet.prefixlen <= bits <= 30:
            raise InvalidArgument(
                f"invalid address pool {item}: size must be /{subnet.prefixlen}../30"
            )
        pools.append((str(subnet), bits))
    return pools


def mac_for(address: str) -> str:
    """Docker's MAC for an address: 02:42 and the four bytes of the IPv4 address."""
    value = to_int(address)
    return "02:42:" + ":".join(f"{value >> shift & 0xFF:02x}" for shift in (24, 16, 8, 0))


def valid_mac(mac: str) -> bool:
    parts = mac.split(":")
    return len(parts) == 6 and all(
        len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts
    )
