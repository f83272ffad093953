"""Published ports: ``-p`` as Docker reads it, and whether a host port is free.

    -p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]     HOST_PORT and CONTAINER_PORT may be ranges

``-p 80`` and ``-p 127.0.0.1::80`` take a random free host port when the
container starts, from the kernel's ephemeral range, as Docker does.
"""

from __future__ import annotations

from dockyard.errors import Conflict, InvalidArgument

PROTOCOLS = ("tcp", "udp", "sctp")


def _port_range(text: str, what: str) -> tuple[int, int]:
    low, dash, high = text.partition("-")
    try:
        first = int(low)
        last = int(high) if dash else first
    except ValueError:
        raise InvalidArgument(f"invalid {what} port: {text}") from None
    if not (0 < first <= 65535 and 0 < last <= 65535) or last < first:
        raise InvalidArgument(f"invalid {what} port: {text}")
    return first, last


def parse_publish(spec: str) -> list[tuple[str, str, str, str]]:
    """``-p SPEC`` -> [(container port "80/tcp", host ip, host port or "", host range or "")].

    A host range against one container port keeps the range: the first free
    port of it is taken at start.
    """
    text, slash, proto = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
    proto = proto.lower() if slash else "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    host_ip = ""
    if text.startswith("["):
        raise InvalidArgument(f"invalid published port {spec}: IPv6 is not supported")
    parts = text.split(":")
    if len(parts) == 1:
        host_port, container = "", parts[0]
    elif len(parts) == 2:
        host_port, container = parts
    elif len(parts) == 3:
        host_ip, host_port, container = parts
    else:
        raise InvalidArgument(f"invalid published port format: {spec}")
    if host_ip:
        from dockyard.network.ipam import valid_address

        if not valid_address(host_ip):
            raise InvalidArgument(f"invalid IP address: {host_ip}")
    if not container:
        raise InvalidArgument(f"no port specified: {spec}<empty>")
    c_first, c_last = _port_range(container, "containerPort")
    out = []
    if not host_port:
        for port in range(c_first, c_last + 1):
            out.append((f"{port}/{proto}", host_ip, "", ""))
        return out
    h_first, h_last = _port_range(host_port, "hostPort")
    if c_first == c_last and h_last > h_first:
        return [(f"{c_first}/{proto}", host_ip, "", f"{h_first}-{h_last}")]
    if h_last - h_first != c_last - c_first:
        raise InvalidArgument(
            f"invalid ranges specified for container and host Ports: {container} and {host_port}"
        )
    for offset in range(c_last - c_first + 1):
        out.append((f"{c_first + offset}/{proto}", host_ip, str(h_first + offset), ""))
    return out


def parse_expose(spec: str) -> list[str]:
    """``--expose 80[-90][/proto]`` -> ["80/tcp", ...]."""
    text, slash, proto = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
    proto = proto.lower() if slash else "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid proto: {proto}")
    first, last = _port_range(text, "exposed")
    return [f"{p}/{proto}" for p in range(first, last + 1)]


def ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", "rb") as f:
            low, high = f.read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def bindable(host_ip: str, port: int, proto: str) -> bool:
    """True if nothing on the host listens on (or has bound) that address and port."""
    import _socket

    kind = _socket.SOCK_DGRAM if proto == "udp" else _socket.SOCK_STREAM
    sock = _socket.socket(_socket.AF_INET, kind | _socket.SOCK_CLOEXEC)
    try:
        if proto != "udp":  # connections in TIME_WAIT do not hold the port; a listener does
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        sock.bind((host_ip or "0.0.0.0", port))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def check_bindable(host_ip: str, port: int, proto: str) -> None:
    if not bindable(host_ip, port, proto):
        where = f"{host_ip or '0.0.0.0'}:{port}"
        raise Conflict(
            f"driver failed programming external connectivity: Bind for {where} failed: "
            "port is already allocated"
        )
