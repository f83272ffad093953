"""The host's connects to a published TCP port go straight to the container
(network/port_redirect.py): the kernel's own view of the socket names the container's
address, the client's getpeername the address it asked for, and the DNAT path is left
to everyone else (another namespace, another engine, the switch turned off)."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.network import port_redirect
from tests.integration.engine.conftest import (
    Dockyard,
    EngineImages,
    _bridges,
    leftovers,
    network_leftovers,
)
from tests.integration.network.conftest import PAGE
from tests.support import netleaks

pytestmark = pytest.mark.skipif(
    port_redirect.cgroup_root() is None, reason="needs cgroup v2 (mounted somewhere)"
)

SERVE = "head -c 3000000 /dev/urandom > /www/big && exec httpd -f -p 80 -h /www"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def _kernel_peer(sock: socket.socket) -> tuple[str, int]:
    """The remote address the kernel holds for a connected socket (/proc/net/tcp, as
    ``ss`` shows it), not what getpeername reports."""
    ip, port = sock.getsockname()
    want = f"{int.from_bytes(socket.inet_aton(ip), 'little'):08X}:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == want:
            raw, _, remote_port = fields[2].partition(":")
            return socket.inet_ntoa(int(raw, 16).to_bytes(4, "little")), int(remote_port, 16)
    raise AssertionError(f"no socket {ip}:{port} in /proc/net/tcp")


class Probe:
    def __init__(self, peer: tuple[str, int], kernel_peer: tuple[str, int], body: bytes) -> None:
        self.peer = peer  # getpeername
        self.kernel_peer = kernel_peer
        self.body = body


def _probe(address: str, port: int, path: str = "/") -> Probe:
    """GET ``path`` over one connection, noting who the socket is connected to."""
    deadline = time.monotonic() + 10
    while True:
        sock = socket.socket()
        try:
            sock.settimeout(5)
            sock.connect((address, port))  # refused until the listener is up
            peer = sock.getpeername()
            kernel = _kernel_peer(sock)
            sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            chunks = []
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        finally:
            sock.close()
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        if head.split(b"\r\n", 1)[0].endswith(b" 200 OK") or time.monotonic() > deadline:
            return Probe(peer, kernel, body)
        time.sleep(0.1)  # the connection was reset: not listening yet


GSO_SIZES = """
import sys
from dockyard.linux import netlink as nl
n = nl.Netlink()
seq = n._send(nl.RTM_GETLINK, nl.NLM_F_ACK, nl._ifinfo() + nl._str(nl.IFLA_IFNAME, sys.argv[1]))
for _kind, payload in n._messages(seq):
    sizes, offset = {}, 16
    while offset + 4 <= len(payload):
        length = int.from_bytes(payload[offset : offset + 2], "little")
        kind = int.from_bytes(payload[offset + 2 : offset + 4], "little") & 0x3FFF
        if kind in (nl.IFLA_GSO_IPV4_MAX_SIZE, nl.IFLA_GRO_IPV4_MAX_SIZE):
            sizes[kind] = int.from_bytes(payload[offset + 4 : offset + 8], "little")
        offset += (length + 3) & ~3
    print(sizes.get(nl.IFLA_GSO_IPV4_MAX_SIZE), sizes.get(nl.IFLA_GRO_IPV4_MAX_SIZE))
"""


def _ipv4_sizes(ifname: str, netns: str = "") -> str:
    """ "GSO GRO" IPv4 max sizes of an interface (in a namespace file's namespace)."""
    enter = ["nsenter", f"--net={netns}"] if netns else []
    done = subprocess.run(
        [*enter, sys.executable, "-c", GSO_SIZES, ifname],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _host_veth(dy: Dockyard) -> str:
    (veth,) = [name for name, master in netleaks.interfaces().items() if master == dy.bridge]
    return veth


def _tag(dy: Dockyard) -> str:
    return port_redirect.tag(str(dy.root))


def _attached(dy: Dockyard) -> bool:
    return _tag(dy) in port_redirect.attached()


def test_the_hosts_connects_go_to_the_container_directly(
    dockyard: Dockyard, net_image: str, runtime: str
) -> None:
    port = _free_port()
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "web", "-p", f"{port}:80", net_image,
        "sh", "-c", SERVE,
    )  # fmt: skip
    assert _attached(dockyard)
    address = dockyard.inspect("web")["NetworkSettings"]["IPAddress"]  # type: ignore[index]
    gateway = dockyard.env["DOCKYARD_BIP"].split("/")[0]
    _probe("127.0.0.1", port)  # httpd is up, so /www/big is whole
    digest = dockyard.run("exec", "web", "sha256sum", "/www/big").stdout.split()[0]
    for target in ("127.0.0.1", "127.0.0.9", gateway):
        probe = _probe(target, port)
        assert probe.body == PAGE
        # the kernel's socket is the container's: no DNAT; getpeername keeps what was asked
        assert probe.kernel_peer == (address, 80), target
        assert probe.peer == (target, port)
        big = _probe(target, port, "/big")
        assert hashlib.sha256(big.body).hexdigest() == digest and len(big.body) == 3000000
    # a socket bound to a loopback address could not leave through the bridge: DNAT's
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        bound.connect(("127.0.0.1", port))
        assert _kernel_peer(bound) == ("127.0.0.1", port)
    # BIG TCP on the bridge and the host's veth, the container's eth0 left as it was
    web_id = dockyard.inspect("web")["Id"]
    assert _ipv4_sizes(dockyard.bridge) == _ipv4_sizes(_host_veth(dockyard)) == "185000 185000"
    assert _ipv4_sizes("eth0", f"{dockyard.run_root}/netns/{web_id}") == "65536 65536"
    # the DNAT path answers the rest: another namespace (a container) by the gateway
    hairpin = dockyard.run(
        "run", "--rm", "--runtime", runtime, net_image, "sh", "-c",
        f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {gateway} {port}",
    )  # fmt: skip
    assert hairpin.stdout.encode().endswith(PAGE), hairpin.stderr
    # ...and a container's own 127.0.0.1:PORT is its own, where nothing listens
    inside = dockyard.run(
        "run", "--rm", "--runtime", runtime, net_image, "sh", "-c",
        f"nc -w 2 127.0.0.1 {port} </dev/null && echo reached || echo refused",
    )  # fmt: skip
    assert inside.stdout.strip() == "refused", inside.stderr

    dockyard.run("rm", "-f", "web")
    assert not _attached(dockyard)


def test_the_programs_go_with_the_last_published_port(
    dockyard: Dockyard, net_image: str, runtime: str
) -> None:
    first, second = _free_port(), _free_port()
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "wide", "-p", f"{first}:80",
                 net_image, "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "local",
                 "-p", f"127.0.0.1:{second}:80", net_image,
                 "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    dockyard.run("run", "-d", "--runtime", runtime, "--name", "none", net_image, "sleep", "100")
    assert len(port_redirect.redirected(str(dockyard.root))) == 3  # lo, gateway; 127.0.0.1
    b_address = dockyard.inspect("local")["NetworkSettings"]["IPAddress"]  # type: ignore[index]
    assert _probe("127.0.0.1", second).kernel_peer == (b_address, 80)
    dockyard.run("rm", "-f", "wide")
    assert _attached(dockyard)
    assert len(port_redirect.redirected(str(dockyard.root))) == 1
    dockyard.run("stop", "-t", "0", "local")
    assert not _attached(dockyard)
    dockyard.run("start", "local")
    assert _probe("127.0.0.1", second).kernel_peer == (b_address, 80)
    dockyard.run("rm", "-f", "local", "none")
    assert not _attached(dockyard)


@pytest.fixture
def second_engine(
    tmp_path: Path, engine_images: EngineImages, cgroup_parent: str, session_marker: str
) -> Iterator[Dockyard]:
    # (a directory and a cgroup parent of its own: the checks of leftovers look there)
    dy = Dockyard(
        tmp_path / "second" / "root", tmp_path / "second" / "run", f"{cgroup_parent}-2",
        engine_images.registry, session_marker,
    )  # fmt: skip
    yield dy
    if (dy.root / "engine.db").exists():
        ids = dy.ids()
        if ids:
            dy.run("rm", "-f", *ids, check=False)
    found = leftovers(dy) + network_leftovers(dy, _bridges(dy))
    assert not found, found


def test_the_switch_and_a_second_engine(
    dockyard: Dockyard, second_engine: Dockyard, net_image: str
) -> None:
    mine, theirs = _free_port(), _free_port()
    dockyard.run("run", "-d", "--name", "mine", "-p", f"{mine}:80", net_image,
                 "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    second_engine.env[port_redirect.ENV] = "0"
    second_engine.run("pull", "-q", net_image)
    second_engine.run("run", "-d", "--name", "theirs", "-p", f"{theirs}:80", net_image,
                      "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    assert _attached(dockyard) and not _attached(second_engine)
    assert _ipv4_sizes(_host_veth(second_engine)) == "65536 65536"  # nor BIG TCP
    # the second engine's port goes through its DNAT: the first's program leaves it be
    gateway = second_engine.env["DOCKYARD_BIP"].split("/")[0]
    for target in ("127.0.0.1", gateway):
        probe = _probe(target, theirs)
        assert probe.body == PAGE
        assert probe.kernel_peer == probe.peer == (target, theirs)
    address = dockyard.inspect("mine")["NetworkSettings"]["IPAddress"]  # type: ignore[index]
    assert _probe("127.0.0.1", mine).kernel_peer == (address, 80)
    second_engine.run("rm", "-f", "theirs")
    # switched on, the second engine has programs of its own beside the first's
    del second_engine.env[port_redirect.ENV]
    second_engine.run("run", "-d", "--name", "theirs", "-p", f"{theirs}:80", net_image,
                      "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    assert _attached(dockyard) and _attached(second_engine)
    address = second_engine.inspect("theirs")["NetworkSettings"]["IPAddress"]  # type: ignore[index]
    assert _probe("127.0.0.1", theirs).kernel_peer == (address, 80)
    second_engine.run("rm", "-f", "theirs")
    assert not _attached(second_engine) and _attached(dockyard)
    dockyard.run("rm", "-f", "mine")
    assert not _attached(dockyard)


def _gone_engine(directory: Path) -> str:
    """Programs of an engine whose root is then removed; their tag."""
    directory.mkdir()
    entries = port_redirect.entries([("0.0.0.0", _free_port(), "10.255.255.2", 80)], "")
    assert port_redirect.add(str(directory), entries)
    gone_tag = port_redirect.tag(str(directory))
    assert port_redirect.attached()[gone_tag] == str(directory)
    (directory / "port-redirect.lock").unlink()
    directory.rmdir()
    return gone_tag


def test_a_repair_removes_a_gone_engines_programs(dockyard: Dockyard, tmp_path: Path) -> None:
    # (any engine's repair on this machine may sweep it: another test session's too, so
    # the sweep is called at once here, and the CLI's result is checked, not its words)
    dockyard.run("ps")  # (the engine's root made)
    gone_tag = _gone_engine(tmp_path / "gone-engine")
    swept = port_redirect.sweep_others(str(dockyard.root))
    assert any(f"dyc_{gone_tag}: its engine root" in line for line in swept), swept
    assert gone_tag not in port_redirect.attached()

    gone_tag = _gone_engine(tmp_path / "gone-too")
    # a check of this engine is not failed by another's leftovers; its repair sweeps them
    assert dockyard.run("system", "check", "--no-repair").returncode == 0
    dockyard.run("system", "check")
    assert gone_tag not in port_redirect.attached()


def test_system_check_removes_entries_for_ports_nobody_holds(
    dockyard: Dockyard, net_image: str
) -> None:
    """What a start killed between claiming its ports and committing them leaves."""
    port, stray = _free_port(), _free_port()
    dockyard.run("run", "-d", "--name", "web", "-p", f"{port}:80", net_image,
                 "httpd", "-f", "-p", "80", "-h", "/www")  # fmt: skip
    root = str(dockyard.root)
    assert port_redirect.add(root, port_redirect.entries([("0.0.0.0", stray, "10.9.9.9", 80)], ""))
    assert len(port_redirect.redirected(root)) == 3
    found = dockyard.run("system", "check", "--no-repair", check=False)
    assert "1 entries for ports not published" in found.stdout + found.stderr
    dockyard.run("system", "check")
    assert len(port_redirect.redirected(root)) == 2 and _attached(dockyard)
    assert _probe("127.0.0.1", port).body == PAGE
    dockyard.run("rm", "-f", "web")
    assert port_redirect.add(root, port_redirect.entries([("0.0.0.0", stray, "10.9.9.9", 80)], ""))
    dockyard.run("system", "check")
    assert not _attached(dockyard)
