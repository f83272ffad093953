"""A small rtnetlink client for the one path where start-up time counts: a container's start.

pyroute2 is Dockyard's netlink library (network/hostnet.py uses it for
bridges, host routes and leftovers), but importing it costs 100 ms or more,
most of a whole ``dockyard run``. Wiring one container takes eight requests
(a veth pair, a master, two addresses' worth of links up, an address, a
route), so they are made here with Python's own AF_NETLINK socket: no
ctypes, no threads, one module.

Each request asks for an acknowledgement; a refusal is raised as
``OSError(errno, ...)`` as ``os`` raises it. A `Netlink` belongs to the
network namespace it was opened in (the kernel binds the socket there), so
a container's side is configured through a socket opened while inside its
namespace (linux/netns.py).
"""

from __future__ import annotations

import _socket
import posix

AF_NETLINK = 16
NETLINK_ROUTE = 0

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR = 20
RTM_NEWROUTE = 24

IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER = 1, 3, 4, 10
IFLA_LINKINFO, IFLA_NET_NS_FD = 18, 28
IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE = 63, 64  # 6.3+; older kernels ignore them
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_OIF, RTA_GATEWAY = 4, 5
IFF_UP = 0x1
NLA_F_NESTED = 0x8000

AF_INET = 2
RT_TABLE_MAIN = 254
RTPROT_BOOT = 3
RT_SCOPE_UNIVERSE = 0
RTN_UNICAST = 1


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return length.to_bytes(2, "little") + kind.to_bytes(2, "little") + data + bytes(-length % 4)


def _str(kind: int, text: str) -> bytes:
    return _attr(kind, text.encode() + b"\0")


def _u32(kind: int, value: int) -> bytes:
    return _attr(kind, value.to_bytes(4, "little"))


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    # family, pad, type, index, flags, change
    return (
        bytes(4)
        + index.to_bytes(4, "little", signed=True)
        + flags.to_bytes(4, "little")
        + change.to_bytes(4, "little")
    )


def ipv4(address: str) -> bytes:
    return bytes(int(part) for part in address.split("."))


def mac_bytes(mac: str) -> bytes:
    return bytes(int(part, 16) for part in mac.split(":"))


class Netlink:
    """One NETLINK_ROUTE socket, in the network namespace this process is in right now."""

    def __init__(self) -> None:
        self.sock = _socket.socket(
            AF_NETLINK, _socket.SOCK_RAW | _socket.SOCK_CLOEXEC, NETLINK_ROUTE
        )
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, kind: int, flags: int, body: bytes) -> int:
        self.seq += 1
        header = (
            (16 + len(body)).to_bytes(4, "little")
            + kind.to_bytes(2, "little")
            + (flags | NLM_F_REQUEST).to_bytes(2, "little")
            + self.seq.to_bytes(4, "little")
            + bytes(4)
        )
        self.sock.send(header + body)
        return self.seq

    def _messages(self, seq: int) -> list[tuple[int, bytes]]:
        """Every reply to request ``seq`` up to its ack or dump end: (type, payload)."""
        out: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(1 << 16)
            offset = 0
            while offset + 16 <= len(data):
                length = int.from_bytes(data[offset : offset + 4], "little")
                kind = int.from_bytes(data[offset + 4 : offset + 6], "little")
                got_seq = int.from_bytes(data[offset + 8 : offset + 12], "little")
                payload = data[offset + 16 : offset + length]
                offset += (length + 3) & ~3
                if got_seq != seq:
                    continue
                if kind == NLMSG_ERROR:
                    err = -int.from_bytes(payload[:4], "little", signed=True)
                    if err:
                        raise OSError(err, posix.strerror(err))
                    return out
                if kind == NLMSG_DONE:
                    return out
                out.append((kind, payload))

    def request(self, kind: int, body: bytes, flags: int = 0) -> None:
        self._messages(self._send(kind, flags | NLM_F_ACK, body))

    # ------------------------------------------------------------ links

    def link_index(self, name: str) -> int:
        """The index of interface ``name``; OSError(ENODEV) if there is none."""
        seq = self._send(RTM_GETLINK, NLM_F_ACK, _ifinfo() + _str(IFLA_IFNAME, name))
        for _kind, payload in self._messages(seq):
            return int.from_bytes(payload[4:8], "little", signed=True)
        raise OSError(19, posix.strerror(19), name)

    def add_veth(self, name: str, peer: str, peer_netns_fd: int, mtu: int, peer_mac: str) -> None:
        """A veth pair: ``name`` here, ``peer`` made right in ``peer_netns_fd``'s namespace."""
        peer_body = (
            _ifinfo()
            + _str(IFLA_IFNAME, peer)
            + _u32(IFLA_NET_NS_FD, peer_netns_fd)
            + _u32(IFLA_MTU, mtu)
        )
        if peer_mac:
            peer_body += _attr(IFLA_ADDRESS, mac_bytes(peer_mac))
        info = _str(IFLA_INFO_KIND, "veth") + _attr(
            IFLA_INFO_DATA | NLA_F_NESTED, _attr(VETH_INFO_PEER | NLA_F_NESTED, peer_body)
        )
        body = (
            _ifinfo()
            + _str(IFLA_IFNAME, name)
            + _u32(IFLA_MTU, mtu)
            + _attr(IFLA_LINKINFO | NLA_F_NESTED, info)
        )
        self.request(RTM_NEWLINK, body, NLM_F_CREATE | NLM_F_EXCL)

    def set_link(self, index: int, up: bool = True, master: int = 0) -> None:
        body = _ifinfo(index, IFF_UP if up else 0, IFF_UP)
        if master:
            body += _u32(IFLA_MASTER, master)
        self.request(RTM_NEWLINK, body)

    def set_ipv4_max_size(self, index: int, size: int) -> None:
        """BIG TCP for IPv4: the largest GSO packet the device sends and GRO builds."""
        body = _ifinfo(index) + _u32(IFLA_GSO_IPV4_MAX_SIZE, size)
        self.request(RTM_NEWLINK, body + _u32(IFLA_GRO_IPV4_MAX_SIZE, size))

    def delete_link(self, name: str) -> bool:
        """Remove interface ``name``; False if it was not there."""
        try:
            self.request(RTM_DELLINK, _ifinfo() + _str(IFLA_IFNAME, name))
        except OSError as exc:
            if exc.errno in (19, 2):  # ENODEV, ENOENT
                return False
            raise
        return True

    # ------------------------------------------------------------ addresses, routes

    def add_address(self, index: int, address: str, prefixlen: int) -> None:
        raw = ipv4(address)
        body = bytes([AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE]) + index.to_bytes(4, "little")
        body += _attr(IFA_LOCAL, raw) + _attr(IFA_ADDRESS, raw)
        self.request(RTM_NEWADDR, body, NLM_F_CREATE | NLM_F_EXCL)

    def add_default_route(self, gateway: str, index: int) -> None:
        body = bytes(
            [AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST]
        ) + bytes(4)
        body += _attr(RTA_GATEWAY, ipv4(gateway)) + _u32(RTA_OIF, index)
        self.request(RTM_NEWROUTE, body, NLM_F_CREATE | NLM_F_EXCL)
