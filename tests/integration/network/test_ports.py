"""Published ports: from the host's 127.0.0.1, from the bridge's address, from a second
host, from another container (hairpin); random ports, -P, ``port``, a busy port."""

from __future__ import annotations

import socket
import sys
import urllib.request

import pytest

from tests.integration.engine.conftest import Dockyard
from tests.integration.network.conftest import PAGE, SecondHost
from tests.support import netleaks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def _free_pair() -> int:
    """A port P such that P and P + 1 are both free."""
    while True:
        port = _free_port()
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
        return port


def _get(url: str) -> bytes:
    import time

    deadline = time.monotonic() + 5
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.read()  # type: ignore[no-any-return]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_published_port_answers_from_everywhere(
    dockyard: Dockyard, net_image: str, second_host: SecondHost, runtime: str
) -> None:
    port = _free_port()
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "web", "-p", f"{port}:80", net_image,
        "httpd", "-f", "-p", "80", "-h", "/www",
    )  # fmt: skip
    gateway = dockyard.env["DOCKYARD_BIP"].split("/")[0]

    assert _get(f"http://127.0.0.1:{port}/") == PAGE
    assert _get(f"http://{gateway}:{port}/") == PAGE
    far = second_host.run(
        sys.executable, "-c",
        "import sys, urllib.request; "
        "sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
        f"http://{second_host.host_address}:{port}/",
    )  # fmt: skip
    assert far.stdout.encode() == PAGE, far.stderr
    # (nc: the static busybox's wget crashes in its resolver in some images)
    hairpin = dockyard.run(
        "run", "--rm", net_image, "sh", "-c",
        f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {gateway} {port}",
    )  # fmt: skip
    assert hairpin.stdout.encode().endswith(PAGE), hairpin.stderr

    assert dockyard.run("port", "web").stdout == f"80/tcp -> 0.0.0.0:{port}\n"
    assert dockyard.run("port", "web", "80").stdout == f"0.0.0.0:{port}\n"
    settings = dockyard.inspect("web")["NetworkSettings"]
    assert settings["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": str(port)}]  # type: ignore[index]
    assert settings["IPAddress"] and settings["Gateway"] == gateway  # type: ignore[index]
    assert settings["MacAddress"].startswith("02:42:")  # type: ignore[index]
    ps = dockyard.run("ps", "--format", "{{.Ports}}").stdout.strip()
    assert ps == f"0.0.0.0:{port}->80/tcp, 7001/udp"  # the image EXPOSEs 7001/udp


def test_random_ports_publish_all_and_udp(dockyard: Dockyard, net_image: str) -> None:
    dockyard.run(
        "run", "-d", "--name", "any", "-p", "127.0.0.1::80", "-P", net_image,
        "sh", "-c", "httpd -p 80 -h /www; udp serve 7001",
    )  # fmt: skip
    ports = dockyard.inspect("any")["NetworkSettings"]["Ports"]  # type: ignore[index]
    local = [b for b in ports["80/tcp"] if b["HostIp"] == "127.0.0.1"]
    assert len(local) == 1 and int(local[0]["HostPort"]) > 1024
    assert _get(f"http://127.0.0.1:{local[0]['HostPort']}/") == PAGE
    (udp,) = ports["7001/udp"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(1)
        for _ in range(20):
            s.sendto(b"hi", ("127.0.0.1", int(udp["HostPort"])))
            try:
                assert s.recv(100) == b"pong:hi"
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("no UDP answer through the published port")


def test_a_busy_host_port_fails_before_the_container_starts(
    dockyard: Dockyard, net_image: str
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = dockyard.run(
            "run", "--name", "late", "-p", f"{port}:80", net_image, "echo", "ran", check=False
        )
    assert taken.returncode == 125
    last = taken.stderr.splitlines()[-1]
    assert last.startswith("Error") and "port is already allocated" in last
    assert "ran" not in taken.stdout and "Traceback" not in taken.stderr
    assert dockyard.inspect("late")["State"]["Running"] is False  # type: ignore[index]

    port = _free_port()
    dockyard.run("run", "-d", "--name", "first", "-p", f"{port}:80", net_image, "sleep", "100")
    second = dockyard.run(
        "run", "-d", "--name", "second", "-p", f"{port}:80", net_image, "sleep", "100", check=False
    )
    assert second.returncode == 125 and "port is already allocated" in second.stderr
    rules = "".join(netleaks.nft_tables().values())
    second_id = dockyard.inspect("second")["Id"]
    assert second_id not in rules


def test_port_specs_are_checked(dockyard: Dockyard, net_image: str) -> None:
    for spec, message in (
        ("80/sctpx", "invalid proto"),
        ("70000:80", "invalid hostPort"),
        ("1000-1002:80-81", "invalid ranges"),
        ("1.2.3:80:80", "invalid IP address"),
    ):
        out = dockyard.run("run", "--rm", "-p", spec, net_image, "true", check=False)
        assert out.returncode == 125 and message in out.stderr, (spec, out.stderr)


def test_port_ranges_are_published_and_listed_as_dockers(
    dockyard: Dockyard, net_image: str
) -> None:
    start = _free_pair()
    dockyard.run(
        "run", "-d", "--name", "ranged", "-p", f"{start}-{start + 1}:80-81", net_image,
        "httpd", "-f", "-p", "81", "-h", "/www",
    )  # fmt: skip
    assert _get(f"http://127.0.0.1:{start + 1}/") == PAGE
    assert dockyard.run("port", "ranged").stdout.splitlines() == [
        f"80/tcp -> 0.0.0.0:{start}", f"81/tcp -> 0.0.0.0:{start + 1}",
    ]  # fmt: skip
    ps = dockyard.run("ps", "--format", "{{.Ports}}").stdout.strip()
    assert ps == f"0.0.0.0:{start}-{start + 1}->80-81/tcp, 7001/udp"
