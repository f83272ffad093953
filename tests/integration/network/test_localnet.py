"""route_localnet on a bridge (how 127.0.0.1 reaches published ports) must not open the
host's loopback-only services to its containers (the shape of CVE-2020-8558)."""

from __future__ import annotations

import socket
import subprocess
import threading

from tests.integration.engine.conftest import Dockyard
from tests.support import netleaks


def _attack(dockyard: Dockyard, net_image: str, port: int, gateway: str) -> str:
    """A container that routes 127.0.0.1 to the gateway (what a forged packet does) and
    connects to a service the host keeps on its loopback."""
    return dockyard.run(
        "run", "--rm", "--cap-add", "NET_ADMIN",
        "--sysctl", "net.ipv4.conf.eth0.route_localnet=1", net_image, "sh", "-c",
        f"ip addr del 127.0.0.1/8 dev lo; ip route add 127.0.0.1/32 via {gateway} dev eth0; "
        f"nc -w 2 127.0.0.1 {port} </dev/null 2>&1; true",
        check=False,
    ).stdout  # fmt: skip


def test_containers_cannot_reach_the_hosts_loopback(dockyard: Dockyard, net_image: str) -> None:
    gateway = dockyard.env["DOCKYARD_BIP"].split("/")[0]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        accepted: list[object] = []

        done = threading.Event()

        def serve() -> None:
            server.settimeout(0.2)
            while not done.is_set():
                try:
                    conn, peer = server.accept()
                except TimeoutError:
                    continue
                accepted.append(peer)
                conn.sendall(b"loopback-only\n")
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        blocked = _attack(dockyard, net_image, port, gateway)
        assert "loopback-only" not in blocked and accepted == []

        # the control: without Dockyard's input rule the same container gets through
        (table,) = [
            t for t, body in netleaks.nft_tables().items() if f'"{dockyard.bridge}"' in body
        ]
        subprocess.run(["nft", "flush", "chain", "ip", table, "input"], check=True)
        opened = _attack(dockyard, net_image, port, gateway)
        done.set()
        thread.join()
    assert "loopback-only" in opened and len(accepted) == 1
