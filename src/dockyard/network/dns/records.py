"""What the resolver serves, as the text file it reads (``<dns dir>/records``).

    dockyard-resolver records 1
    N <network id> <network name>
    A <network id> <address> <name> [<name>...]     one container on one network
    C <container id> <netns file> <flags> <network id>,... <upstream>,...

Fields are separated by tabs. An ``A`` line's first name is the container's
own (PTR answers say ``name.network``); the others are its aliases, short id
and hostname. A ``C`` line is a container the resolver answers, at
127.0.0.11:53 in the namespace held by its netns file, from the networks
listed (in the order it joined them); flags: ``f`` forward other names to
the upstream servers (not when all its networks are ``--internal``), ``n``
the user set ``ndots`` (single labels not ours are then not forwarded), ``-`` none.

Plain classes rather than dataclasses: they are built on every ``run`` on a
user-defined network, and ``dataclasses`` costs ~10 ms to import.
"""

from __future__ import annotations

HEADER = "dockyard-resolver records 1"


class DnsNetwork:
    __slots__ = ("id", "name")

    def __init__(self, id: str, name: str) -> None:
        self.id = id
        self.name = name


class DnsEntry:
    """A container on a network: its address there and the names it answers to."""

    __slots__ = ("address", "names", "network_id")

    def __init__(self, network_id: str, address: str, names: list[str]) -> None:
        self.network_id = network_id
        self.address = address
        self.names = names  # the container's name first


class DnsClient:
    """A container the resolver answers."""

    __slots__ = ("container_id", "forward", "ndots", "netns", "network_ids", "upstreams")

    def __init__(
        self,
        container_id: str,
        netns: str,
        network_ids: list[str],
        upstreams: list[str],
        forward: bool = True,
        ndots: bool = False,
    ) -> None:
        self.container_id = container_id
        self.netns = netns
        self.network_ids = network_ids
        self.upstreams = upstreams
        self.forward = forward
        self.ndots = ndots


def _clean(word: str) -> bool:
    """A field the format can carry: not empty, no whitespace, no comma."""
    return bool(word) and not any(c in word for c in " \t\r\n,")


def render(networks: list[DnsNetwork], entries: list[DnsEntry], clients: list[DnsClient]) -> str:
    lines = [HEADER]
    for net in networks:
        lines.append(f"N\t{net.id}\t{net.name}")
    for entry in entries:
        names: list[str] = []
        for name in entry.names:
            if _clean(name) and name.lower() not in (n.lower() for n in names):
                names.append(name)
        if names:
            lines.append("\t".join(["A", entry.network_id, entry.address, *names]))
    for client in clients:
        flags = ("f" if client.forward else "") + ("n" if client.ndots else "")
        upstreams = [u for u in client.upstreams if _clean(u)][:3]
        lines.append(
            "\t".join(
                [
                    "C",
                    client.container_id,
                    client.netns,
                    flags or "-",
                    ",".join(client.network_ids) or "-",
                    ",".join(upstreams) or "-",
                ]
            )
        )
    return "\n".join(lines) + "\n"
