"""A DNS client and a fake upstream server for the resolver's tests (no traffic leaves the host).

``query(server, name, ...)`` asks one question over UDP or TCP and returns the
parsed answer. Run as a script (``python -m tests.support.dns SERVER NAME
[TYPE] [--tcp] [--edns SIZE]``) it prints the answer as JSON: the tests run it
inside a network namespace with ``nsenter --net=PATH``.

`FakeUpstream` is a DNS server on a loopback address of the host (port 53,
UDP and TCP, in threads) that answers the names it is given and NXDOMAIN
otherwise, and records every question it was asked.
"""

from __future__ import annotations

import json
import random
import secrets
import socket
import struct
import sys
import threading
from dataclasses import dataclass, field

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33}
NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def build_query(name: str, qtype: str = "A", edns: int = 0, ident: int | None = None) -> bytes:
    ident = random.randrange(65536) if ident is None else ident
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 1 if edns else 0)
    body = encode_name(name) + struct.pack(">HH", TYPES[qtype], 1)
    if edns:
        body += b"\0" + struct.pack(">HHIH", 41, edns, 0, 0)
    return header + body


def _name(msg: bytes, at: int) -> tuple[str, int]:
    """The name at ``at`` (compression followed) and the offset after it."""
    labels, end, jumps = [], 0, 0
    while True:
        length = msg[at]
        if length & 0xC0 == 0xC0:
            if not end:
                end = at + 2
            at = (length & 0x3F) << 8 | msg[at + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("a compression loop")
            continue
        if length == 0:
            return ".".join(labels) + ".", end or at + 1
        labels.append(msg[at + 1 : at + 1 + length].decode("latin-1"))
        at += 1 + length


@dataclass
class Answer:
    ident: int
    rcode: str
    tc: bool
    ra: bool
    aa: bool
    question: str
    answers: list[tuple[str, str, int]] = field(default_factory=list)  # (type, value, ttl)
    size: int = 0

    def values(self, qtype: str = "A") -> list[str]:
        return [value for kind, value, _ in self.answers if kind == qtype]


def parse(msg: bytes) -> Answer:
    ident, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", msg[:12])
    at, question = 12, ""
    for _ in range(qd):
        question, at = _name(msg, at)
        at += 4
    out = Answer(
        ident,
        RCODES.get(flags & 0xF, str(flags & 0xF)),
        bool(flags & 0x0200),
        bool(flags & 0x0080),
        bool(flags & 0x0400),
        question,
        size=len(msg),
    )
    for _ in range(an):
        _, at = _name(msg, at)
        kind, _cls, ttl, length = struct.unpack(">HHIH", msg[at : at + 10])
        at += 10
        data = msg[at : at + length]
        if kind == 1:
            value = socket.inet_ntoa(data)
        elif kind in (5, 12, 2):
            value = _name(msg, at)[0]
        else:
            value = data.hex()
        out.answers.append((NAMES.get(kind, str(kind)), value, ttl))
        at += length
    return out


def client_socket(kind: int, netns: str = "") -> socket.socket:
    """A socket of this host, or of the network namespace held by the file ``netns``
    (made there, used from here: a socket keeps the namespace it was made in)."""
    if not netns:
        return socket.socket(socket.AF_INET, kind)
    from dockyard.linux.netns import entered

    with entered(netns):
        return socket.socket(socket.AF_INET, kind)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection before its answer")
        data += chunk
    return data


def read_framed(sock: socket.socket) -> bytes:
    """One length-prefixed DNS message from a TCP connection (and not a byte more)."""
    return _read_exactly(sock, struct.unpack(">H", _read_exactly(sock, 2))[0])


def exchange(
    server: str, message: bytes, tcp: bool = False, timeout: float = 10.0, netns: str = ""
) -> bytes:
    if tcp:
        with client_socket(socket.SOCK_STREAM, netns) as sock:
            sock.settimeout(timeout)
            sock.connect((server, 53))
            sock.sendall(struct.pack(">H", len(message)) + message)
            return read_framed(sock)
    with client_socket(socket.SOCK_DGRAM, netns) as sock:
        sock.settimeout(timeout)
        sock.connect((server, 53))
        sock.send(message)
        return sock.recv(65536)


def query(
    server: str,
    name: str,
    qtype: str = "A",
    tcp: bool = False,
    edns: int = 0,
    timeout: float = 10.0,
    netns: str = "",
) -> Answer:
    message = build_query(name, qtype, edns)
    answer = parse(exchange(server, message, tcp, timeout, netns))
    if answer.ident != struct.unpack(">H", message[:2])[0]:
        raise ValueError("the answer's id is not the query's")
    return answer


# ------------------------------------------------------------ a fake upstream server


def free_loopback() -> str:
    """A 127.x.y.z address where nothing listens on port 53 (UDP and TCP)."""
    for _ in range(100):
        second = secrets.randbelow(254) + 1
        if second == 53:
            continue  # 127.53.0.0/16: the engine tests' resolver where nothing answers
        address = f"127.{second}.{secrets.randbelow(256)}.{secrets.randbelow(253) + 2}"
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind((address, 53))
        except OSError:
            continue
        return address
    raise RuntimeError("no free loopback address for a fake DNS server")


class FakeUpstream:
    """A DNS server on ``address``:53 answering ``names`` (name -> [A addresses]);
    NXDOMAIN (authoritative) for any other name. ``truncate_udp`` names get a TC answer
    with no records over UDP and the whole answer over TCP."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address or free_loopback()
        self.names: dict[str, list[str]] = {}
        self.truncate_udp: set[str] = set()
        self.rcode = 0  # 2 (SERVFAIL) or 5 (REFUSED): a server that fails every question
        self.asked: list[tuple[str, str, str]] = []  # (proto, name, type)
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((self.address, 53))
        self._tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((self.address, 53))
        self._tcp.listen(16)
        self._stop = False
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def questions(self, proto: str | None = None) -> list[str]:
        return [name for p, name, _ in list(self.asked) if proto in (None, p)]

    def _answer(self, message: bytes, proto: str) -> bytes:
        ident, flags = struct.unpack(">HH", message[:4])
        name, at = _name(message, 12)
        qtype = struct.unpack(">H", message[at : at + 2])[0]
        question = message[12 : at + 4]
        self.asked.append((proto, name.rstrip(".").lower(), NAMES.get(qtype, str(qtype))))
        key = name.rstrip(".").lower()
        records = self.names.get(key) if not self.rcode else None
        rcode, tc = (0, False) if records is not None else (self.rcode or 3, False)
        answers = b""
        if records and proto == "udp" and key in self.truncate_udp:
            tc = True
        elif records and qtype == 1:
            for address in records:
                answers += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4)
                answers += socket.inet_aton(address)
        count = 0 if tc or qtype != 1 or not records else len(records)
        out_flags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode | (0x0200 if tc else 0)
        out_flags |= 0x0400 if rcode in (0, 3) else 0  # authoritative for what it knows
        return struct.pack(">HHHHHH", ident, out_flags, 1, count, 0, 0) + question + answers

    def _serve_udp(self) -> None:
        while not self._stop:
            try:
                message, peer = self._udp.recvfrom(65536)
                self._udp.sendto(self._answer(message, "udp"), peer)
            except OSError:
                return
            except (ValueError, IndexError, struct.error):
                continue

    def _serve_tcp(self) -> None:
        while not self._stop:
            try:
                conn, _ = self._tcp.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(3)
                    reply = self._answer(read_framed(conn), "tcp")
                    conn.sendall(struct.pack(">H", len(reply)) + reply)
                except (OSError, ValueError, IndexError, struct.error, ConnectionError):
                    continue

    def close(self) -> None:
        self._stop = True
        for sock in (self._udp, self._tcp):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    tcp = "--tcp" in argv
    edns = int(argv[argv.index("--edns") + 1]) if "--edns" in argv else 0
    if "--edns" in argv:
        args.remove(str(edns))
    server, name = args[0], args[1]
    qtype = args[2] if len(args) > 2 else "A"
    try:
        answer = query(server, name, qtype, tcp=tcp, edns=edns)
    except (OSError, ValueError) as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(json.dumps(answer.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
