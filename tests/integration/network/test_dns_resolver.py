"""dockyard-resolver on its own (network/dns/resolver.c), driven as the engine drives it
(network/dns/control.py) with records written by hand, in network namespaces the tests make:
the answers Docker's embedded DNS gives, truncation, TCP, forwarding, reloads, its exit."""

from __future__ import annotations

import os
import secrets
import socket
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockyard.network.dns.control import ResolverControl
from dockyard.network.dns.records import DnsClient, DnsEntry, DnsNetwork, render
from tests.support import leaks, netleaks
from tests.support.dns import (
    Answer,
    FakeUpstream,
    build_query,
    client_socket,
    parse,
    query,
    read_framed,
)

pytestmark = [pytest.mark.integration]

NET = "1" * 64
OTHER = "2" * 64


@dataclass
class Namespace:
    name: str

    @property
    def path(self) -> str:
        return f"/run/netns/{self.name}"

    def ask(self, name: str, qtype: str = "A", tcp: bool = False, edns: int = 0) -> Answer:
        return query("127.0.0.11", name, qtype, tcp=tcp, edns=edns, netns=self.path)


class Namespaces:
    """The namespaces a test makes (``namespaces.new()``), named after the session so its
    leak check can tell them; all deleted after the test."""

    def __init__(self, session_marker: str) -> None:
        self.prefix = f"{netleaks.NETNS_PREFIX}{session_marker[:4]}d"
        self.made: list[Namespace] = []

    def new(self, lo_up: bool = True) -> Namespace:
        name = f"{self.prefix}{secrets.token_hex(3)}"
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.made.append(Namespace(name))
        if lo_up:
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        return self.made[-1]


@pytest.fixture
def namespaces(session_marker: str) -> Iterator[Namespaces]:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    made = Namespaces(session_marker)
    yield made
    for ns in made.made:
        subprocess.run(["ip", "netns", "del", ns.name], capture_output=True)


class Resolver:
    """A resolver in a directory of the test's, served what the test says."""

    def __init__(self, directory: Path) -> None:
        self.control = ResolverControl(str(directory))
        self.directory = directory

    def serve(self, entries: list[DnsEntry], clients: list[DnsClient]) -> dict[str, str]:
        networks = [DnsNetwork(NET, "front"), DnsNetwork(OTHER, "back")]
        return self.control.apply(render(networks, entries, clients), len(clients)).failed

    def pid(self) -> int:
        return self.control.pid()


@pytest.fixture
def resolver(tmp_path: Path) -> Iterator[Resolver]:
    served = Resolver(tmp_path / "dns")
    yield served
    if served.pid():
        served.control.stop()
        pytest.fail("the test left its resolver running")


def _client(
    ns: Namespace, *networks: str, upstreams: tuple[str, ...] = (), flags: str = "f"
) -> DnsClient:
    return DnsClient(
        "c" + ns.name,
        ns.path,
        list(networks or (NET,)),
        list(upstreams),
        "f" in flags,
        "n" in flags,
    )


def _web(count: int = 1) -> list[DnsEntry]:
    return [
        DnsEntry(NET, f"10.9.{i // 200}.{i % 200 + 2}", [f"web{i}", "pool", f"{i:012x}"])
        for i in range(count)
    ]


def test_names_aliases_ids_and_the_answers_docker_gives(
    resolver: Resolver, namespaces: Namespaces
) -> None:
    ns = namespaces.new()
    entries = [
        DnsEntry(NET, "10.9.0.2", ["web", "frontend", "abcdef123456", "web-host"]),
        DnsEntry(NET, "10.9.0.3", ["db", "frontend"]),
        DnsEntry(OTHER, "10.8.0.2", ["hidden"]),
    ]
    assert resolver.serve(entries, [_client(ns)]) == {}

    for name in ("web", "WEB", "abcdef123456", "web-host", "web.front", "Web.Front."):
        answer = ns.ask(name)
        assert (answer.rcode, answer.values()) == ("NOERROR", ["10.9.0.2"]), name
        assert answer.ra and not answer.aa and answer.answers[0][2] == 600
    assert sorted(ns.ask("frontend").values()) == ["10.9.0.2", "10.9.0.3"]
    for qtype in ("AAAA", "MX"):
        empty = ns.ask("db", qtype)
        assert (empty.rcode, empty.answers) == ("NOERROR", [])
    ptr = ns.ask("3.0.9.10.in-addr.arpa", "PTR")
    assert ptr.answers == [("PTR", "db.front.", 600)]
    # not on its networks, and no upstream server to ask: SERVFAIL, as Docker's
    for name in ("hidden", "hidden.back", "web.back", "nowhere.example"):
        assert ns.ask(name).rcode == "SERVFAIL", name
    assert ns.ask("8.0.8.10.in-addr.arpa", "PTR").rcode == "SERVFAIL"

    resolver.serve([], [])
    assert resolver.pid() == 0


def test_answers_too_big_for_udp_are_truncated(resolver: Resolver, namespaces: Namespaces) -> None:
    ns = namespaces.new()
    resolver.serve(_web(100), [_client(ns)])

    udp = ns.ask("pool")
    assert udp.tc and udp.size <= 512 and 0 < len(udp.answers) < 100
    edns = ns.ask("pool", edns=4096)
    assert not edns.tc and len(edns.answers) == 100
    tcp = ns.ask("pool", tcp=True)
    assert not tcp.tc and len(tcp.answers) == 100
    resolver.serve([], [])


def test_tcp_answers_queries_in_turn_and_after_a_half_close(
    resolver: Resolver, namespaces: Namespaces
) -> None:
    ns = namespaces.new()
    resolver.serve(_web(3), [_client(ns)])
    with client_socket(socket.SOCK_STREAM, ns.path) as sock:
        sock.settimeout(3)
        sock.connect(("127.0.0.11", 53))
        for name in ("web0", "web1", "web2"):
            message = build_query(name)
            sock.sendall(struct.pack(">H", len(message)) + message)
        sock.shutdown(socket.SHUT_WR)  # nothing more to say; the answers still come
        answers = [parse(read_framed(sock)).values() for _ in range(3)]
    assert answers == [["10.9.0.2"], ["10.9.0.3"], ["10.9.0.4"]]
    resolver.serve([], [])


def test_malformed_queries_get_docker_s_errors(resolver: Resolver, namespaces: Namespaces) -> None:
    ns = namespaces.new()
    resolver.serve(_web(), [_client(ns)])
    with client_socket(socket.SOCK_DGRAM, ns.path) as sock:
        sock.settimeout(1)
        sock.connect(("127.0.0.11", 53))
        two = bytearray(build_query("web0"))
        two[5] = 2  # two questions
        sock.send(bytes(two))
        assert parse(sock.recv(600)).rcode == "FORMERR"
        status = bytearray(build_query("web0"))
        status[2] |= 2 << 3  # opcode STATUS
        sock.send(bytes(status))
        assert parse(sock.recv(600)).rcode == "NOTIMP"
        sock.send(b"\x01\x02\x03")  # not even a header: no answer at all
        with pytest.raises(TimeoutError):
            sock.recv(600)
    assert ns.ask("web0").values() == ["10.9.0.2"]
    resolver.serve([], [])


def test_other_names_are_forwarded_to_the_first_server_that_answers(
    resolver: Resolver, namespaces: Namespaces
) -> None:
    ns, hermit, picky = namespaces.new(), namespaces.new(), namespaces.new()
    failing, good = FakeUpstream(), FakeUpstream()
    failing.rcode = 2  # SERVFAIL: Docker asks the next server
    good.names["example.test"] = ["192.0.2.7"]
    try:
        servers = ("127.53.0.1", failing.address, good.address)  # nobody, failing, good
        resolver.serve(
            _web(),
            [
                _client(ns, upstreams=servers),
                _client(hermit, upstreams=servers, flags=""),  # all --internal: no forwarding
                _client(picky, upstreams=servers, flags="fn"),  # the user set ndots
            ],
        )
        for tcp in (False, True):
            answer = ns.ask("example.test", tcp=tcp)
            assert (answer.rcode, answer.values()) == ("NOERROR", ["192.0.2.7"])
            assert ns.ask("missing.test", tcp=tcp).rcode == "NXDOMAIN"
        assert ("udp", "example.test", "A") in failing.asked
        assert ("tcp", "example.test", "A") in good.asked
        asked = len(good.asked)
        assert hermit.ask("example.test").rcode == "SERVFAIL"
        assert hermit.ask("web0").values() == ["10.9.0.2"]
        bare = picky.ask("example")
        assert (bare.rcode, bare.answers) == ("NOERROR", [])
        assert picky.ask("example.test").values() == ["192.0.2.7"]
        assert [q for q in good.asked[asked:] if q[1] == "example"] == []
        failing.rcode = good.rcode = 5  # everyone refuses: SERVFAIL
        assert ns.ask("example.test").rcode == "SERVFAIL"
    finally:
        failing.close()
        good.close()
    resolver.serve([], [])


def test_reloads_follow_the_records_and_the_last_one_ends_it(
    resolver: Resolver, namespaces: Namespaces
) -> None:
    first, second, down = namespaces.new(), namespaces.new(), namespaces.new(lo_up=False)
    assert resolver.serve(_web(2), [_client(first), _client(second)]) == {}
    pid = resolver.pid()
    assert first.ask("web1").values() == ["10.9.0.3"]

    # second dropped: its listener goes (and with it the resolver's hold on its namespace)
    assert resolver.serve(_web(1), [_client(first)]) == {}
    assert first.ask("web1").rcode == "SERVFAIL"
    with pytest.raises(ConnectionRefusedError):
        second.ask("web0")
    # a namespace that is not ready, or not one, is refused by name; the others still served
    failed = resolver.serve(
        _web(1), [_client(first), _client(down), DnsClient("gone", "/nonexistent", [NET], [])]
    )
    assert failed["c" + down.name].endswith("is not up yet") and "gone" in failed
    # the same container in a new namespace (a restart) is listened for there
    subprocess.run(["ip", "netns", "del", first.name], check=True)
    subprocess.run(["ip", "netns", "add", first.name], check=True)
    subprocess.run(["ip", "-n", first.name, "link", "set", "lo", "up"], check=True)
    assert resolver.serve(_web(1), [_client(first)]) == {}
    assert first.ask("web0").values() == ["10.9.0.2"]
    assert resolver.pid() == pid  # one process all along

    fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert not [fd for fd in fds if fd.startswith("pipe:")]  # nothing of its caller's kept
    resolver.serve([], [])
    assert not Path(f"/proc/{pid}").exists() or b"Z" in Path(f"/proc/{pid}/stat").read_bytes()
    assert sorted(p.name for p in resolver.directory.iterdir()) == ["log"]
    assert leaks.resolvers(str(resolver.directory)) == {}
