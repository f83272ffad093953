"""Containers on bridge networks: each other by address (TCP, UDP), the outside through NAT,
--internal, --network container:X, addresses under concurrency, /etc files, the verbs."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.engine.conftest import Dockyard
from tests.integration.network.conftest import SecondHost
from tests.support import netleaks


def _ip(dockyard: Dockyard, name: str, network: str) -> str:
    networks = dockyard.inspect(name)["NetworkSettings"]["Networks"]  # type: ignore[index]
    return str(networks[network]["IPAddress"])


def _sh(dockyard: Dockyard, *argv: str) -> subprocess.CompletedProcess[str]:
    return dockyard.run("run", "--rm", *argv, check=False)


def test_two_containers_on_a_user_network_talk_tcp_and_udp(
    dockyard: Dockyard, net_image: str, runtime: str
) -> None:
    """By address, by name and by alias (the embedded DNS), over TCP and UDP."""
    subnet = netleaks.free_subnet()
    dockyard.run("network", "create", "--subnet", subnet, "talk")
    dockyard.run(
        "run", "-d", "--runtime", runtime, "--name", "server", "--network", "talk",
        "--network-alias", "backend", net_image,
        "sh", "-c", "nc -ll -p 7000 -e echo tcp-hi & udp serve 7001",
    )  # fmt: skip
    server = _ip(dockyard, "server", "talk")
    assert server.startswith(subnet.rsplit(".", 1)[0] + ".")

    # the first TCP and UDP exchanges wait (bounded) for the server's listeners
    out = _sh(
        dockyard, "--runtime", runtime, "--network", "talk", net_image, "sh", "-c",
        "for i in $(seq 50); do nc -w 2 server 7000 </dev/null && break; sleep 0.2; done; "
        f"nc -w 2 backend 7000 </dev/null; nc -w 2 {server} 7000 </dev/null; "
        "for i in $(seq 10); do udp send server 7001 by-name && break; done; "
        f"udp send backend 7001 by-alias; udp send {server} 7001 ip",
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "tcp-hi", "tcp-hi", "tcp-hi", "pong:by-name", "pong:by-alias", "pong:ip",
    ]  # fmt: skip


def test_etc_files_dns_options_and_addresses(dockyard: Dockyard, net_image: str) -> None:
    out = _sh(
        dockyard, "--hostname", "box", "--add-host", "db.example:10.1.2.3",
        "--add-host", "gw:host-gateway", "--dns", "10.0.0.53", "--dns-search", "example.org",
        "--dns-option", "ndots:2", "--mac-address", "92:d0:c6:0a:29:33", net_image, "sh", "-c",
        "cat /etc/hosts; echo ===; cat /etc/resolv.conf; echo ===; hostname; cat /etc/hostname; "
        "ip -4 -o addr show eth0; ip link show eth0; ip route; cat /sys/class/net/eth0/mtu",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    hosts, resolv, rest = out.stdout.split("===\n")
    gateway = dockyard.env["DOCKYARD_BIP"].split("/")[0]
    hosts_lines = [line.split("\t") for line in hosts.splitlines()]
    assert ["10.1.2.3", "db.example"] in hosts_lines and [gateway, "gw"] in hosts_lines
    own = hosts_lines[-1]
    assert own[1] == "box" and rest.splitlines()[2].split()[3] == f"{own[0]}/24"
    assert "nameserver 10.0.0.53" in resolv and "search example.org" in resolv
    assert "options ndots:2" in resolv and resolv.count("nameserver") == 1
    lines = rest.splitlines()
    assert lines[:2] == ["box", "box"]
    assert "92:d0:c6:0a:29:33" in rest
    assert f"default via {gateway} dev eth0" in rest
    assert lines[-1] == "1500"


def test_outbound_nat_and_internal_networks(
    dockyard: Dockyard, net_image: str, second_host: SecondHost
) -> None:
    """A container reaches another machine (masqueraded: it sees the host's address); on an
    --internal network it reaches nothing outside, and has no default route."""
    listener = second_host.popen(
        "/bin/busybox", "sh", "-c", "nc -l -p 9000 -e sh -c 'echo outside; echo $NCIP >&2'"
    )
    try:
        out = _sh(
            dockyard, net_image, "sh", "-c",
            f"for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 {second_host.address} 9000 </dev/null "
            "&& break; sleep 0.2; done",
        )  # fmt: skip
        assert out.returncode == 0 and out.stdout.strip() == "outside", out.stderr
    finally:
        listener.kill()
        listener.wait()
    dockyard.run("network", "create", "--internal", "--subnet", netleaks.free_subnet(), "closed")
    listener = second_host.popen("/bin/busybox", "nc", "-l", "-p", "9001", "-e", "echo", "outside")
    try:
        closed = _sh(
            dockyard, "--network", "closed", net_image, "sh", "-c",
            f"ip route; nc -w 2 {second_host.address} 9001 </dev/null; echo rc=$?",
        )  # fmt: skip
    finally:
        listener.kill()
        listener.wait()
    assert "default" not in closed.stdout
    assert "outside" not in closed.stdout and "rc=1" in closed.stdout
    inspected = json.loads(dockyard.run("network", "inspect", "closed").stdout)[0]
    assert inspected["Internal"] is True and inspected["Driver"] == "bridge"


def test_network_container_mode_shares_the_stack(dockyard: Dockyard, net_image: str) -> None:
    dockyard.run(
        "run", "-d", "--name", "owner", net_image, "sh", "-c", "nc -ll -p 7100 -e echo shared"
    )  # fmt: skip
    owner_ip = _ip(dockyard, "owner", "bridge")
    out = _sh(
        dockyard, "--network", "container:owner", net_image, "sh", "-c",
        "ip -4 -o addr show eth0; hostname; for i in 1 2 3 4 5 6 7 8 9 10; do "
        "nc -w 2 127.0.0.1 7100 </dev/null && break; sleep 0.2; done",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    assert f"{owner_ip}/24" in words and words[-1] == "shared"
    assert dockyard.inspect("owner")["Config"]["Hostname"] in words  # type: ignore[index]
    stopped = dockyard.run("create", "--name", "idle", net_image, "true").stdout.strip()
    refused = _sh(dockyard, "--network", f"container:{stopped}", net_image, "true")
    assert refused.returncode != 0 and "non running container" in refused.stderr


def test_twenty_parallel_runs_get_distinct_addresses(dockyard: Dockyard, net_image: str) -> None:
    dockyard.run("network", "create", "--subnet", netleaks.free_subnet(), "crowd")

    def start(i: int) -> subprocess.CompletedProcess[str]:
        return dockyard.run(
            "run", "-d", "--name", f"c{i:02d}", "--network", "crowd", net_image, "sleep", "1000",
            check=False,
        )  # fmt: skip

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(start, range(20)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    addresses = [_ip(dockyard, f"c{i:02d}", "crowd") for i in range(20)]
    assert len(set(addresses)) == 20 and all(addresses)
    members = json.loads(dockyard.run("network", "inspect", "crowd").stdout)[0]["Containers"]
    assert sorted(m["IPv4Address"].split("/")[0] for m in members.values()) == sorted(addresses)


def test_ip_alias_connect_disconnect_and_removal(dockyard: Dockyard, net_image: str) -> None:
    subnet = netleaks.free_subnet()
    prefix = subnet.rsplit(".", 1)[0]
    dockyard.run(
        "network", "create", "--subnet", subnet, "--ip-range", subnet, "--label", "k=v", "one"
    )
    # no --subnet: the next free block of the pool (DOCKYARD_ADDRESS_POOLS); its own MTU
    dockyard.run("network", "create", "-o", "com.docker.network.driver.mtu=1400", "two")
    pool = dockyard.env["DOCKYARD_ADDRESS_POOLS"].split(":")[0]
    two = json.loads(dockyard.run("network", "inspect", "two").stdout)[0]["IPAM"]["Config"][0]
    assert two["Subnet"] == pool.replace(".0.0/16", ".0.0/24")
    assert two["Gateway"] == pool.replace(".0.0/16", ".0.1")
    dockyard.run(
        "run", "-d", "--name", "fixed", "--network", "one", "--ip", f"{prefix}.50",
        "--network-alias", "web", net_image, "sleep", "1000",
    )  # fmt: skip
    assert _ip(dockyard, "fixed", "one") == f"{prefix}.50"
    taken = dockyard.run(
        "run", "--rm", "--network", "one", "--ip", f"{prefix}.50", net_image, "true", check=False
    )
    assert taken.returncode == 125 and "Address already in use" in taken.stderr
    entry = dockyard.inspect("fixed")["NetworkSettings"]["Networks"]["one"]  # type: ignore[index]
    assert entry["Aliases"] == ["web"] and entry["IPAMConfig"] == {"IPv4Address": f"{prefix}.50"}

    dockyard.run("network", "connect", "two", "fixed")
    eth1 = dockyard.run("exec", "fixed", "ip", "-4", "-o", "addr", "show", "eth1")
    assert f"{_ip(dockyard, 'fixed', 'two')}/24" in eth1.stdout
    mtu = dockyard.run("exec", "fixed", "cat", "/sys/class/net/eth1/mtu").stdout
    assert mtu.strip() == "1400"
    ps = dockyard.run("ps", "--filter", "network=two", "--format", "{{.Names}} {{.Networks}}")
    assert ps.stdout.split() == ["fixed", "one,two"]
    assert set(dockyard.inspect("fixed")["NetworkSettings"]["Networks"]) == {"one", "two"}  # type: ignore[index]
    busy = dockyard.run("network", "rm", "two", check=False)
    assert busy.returncode == 1 and "active endpoints" in busy.stderr
    dockyard.run("network", "disconnect", "two", "fixed")
    gone = dockyard.run("exec", "fixed", "ls", "/sys/class/net").stdout.split()
    assert gone == ["eth0", "lo"]
    assert set(dockyard.inspect("fixed")["NetworkSettings"]["Networks"]) == {"one"}  # type: ignore[index]
    assert dockyard.run("network", "rm", "two").stdout.strip() == "two"

    ls = dockyard.run("network", "ls", "--filter", "label=k=v", "--format", "{{.Name}}").stdout
    assert ls.split() == ["one"]
    assert set(dockyard.run("network", "ls", "--format", "{{.Name}}").stdout.split()) == {
        "bridge", "host", "none", "one",
    }  # fmt: skip
    icc = dockyard.run(
        "network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "x", check=False
    )
    assert icc.returncode == 1 and "enable_icc=false is not supported" in icc.stderr
    predefined = dockyard.run("network", "rm", "bridge", check=False)
    assert predefined.returncode == 1 and "pre-defined" in predefined.stderr
    dockyard.run("rm", "-f", "fixed")
    assert dockyard.run("network", "prune", "-f").stdout.split() == ["Deleted", "Networks:", "one"]


@pytest.mark.parametrize("mode", ["none", "host"])
def test_none_and_host_modes(dockyard: Dockyard, net_image: str, mode: str) -> None:
    out = _sh(dockyard, "--network", mode, net_image, "ls", "/sys/class/net")
    names = out.stdout.split()
    if mode == "none":
        assert names == ["lo"]
    else:  # the host's own interfaces
        assert "eth0" in names and "lo" in names and "eth0" in netleaks.interfaces()


def _net_namespace(spec_path: Path) -> dict[str, str]:
    spec = json.loads(spec_path.read_text())
    return next(n for n in spec["linux"]["namespaces"] if n["type"] == "network")


def test_namespace_made_by_the_runtime_is_kept_and_wired_before_start(
    dockyard: Dockyard, net_image: str, runtime: str
) -> None:
    """The runtime clones the init into a new network namespace (no path in the spec,
    as Docker gives runc); the engine keeps it at the container's file and wires it
    while the init sets up. A container with its own net.* sysctls gets one the
    engine makes and wires before the runtime's create, so they see its eth0."""
    cid = dockyard.run(
        "run", "-d", "--runtime", runtime, net_image, "sh", "-c",
        "ip -4 -o addr show eth0 > /tmp/at-start; ip route > /tmp/routes; sleep 600",
    ).stdout.strip()  # fmt: skip
    assert "path" not in _net_namespace(dockyard.root / "containers" / cid / "config.json")
    pid = int(dockyard.inspect(cid)["State"]["Pid"])  # type: ignore[index]
    held = os.stat(dockyard.run_root / "netns" / cid)
    theirs = os.stat(f"/proc/{pid}/ns/net")
    assert (held.st_dev, held.st_ino) == (theirs.st_dev, theirs.st_ino)
    # the first command already had its address and default route
    address = _ip(dockyard, cid, "bridge")
    at_start = dockyard.run("exec", cid, "cat", "/tmp/at-start", "/tmp/routes").stdout
    assert f"inet {address}/" in at_start and "default via" in at_start
    dockyard.run("rm", "-f", cid)
    assert not (dockyard.run_root / "netns" / cid).exists()

    sysctl = dockyard.run(
        "run", "-d", "--runtime", runtime, "--sysctl", "net.ipv4.conf.eth0.rp_filter=2",
        net_image, "sleep", "600",
    ).stdout.strip()  # fmt: skip
    spec = dockyard.root / "containers" / sysctl / "config.json"
    assert _net_namespace(spec)["path"] == str(dockyard.run_root / "netns" / sysctl)
    out = dockyard.run("exec", sysctl, "cat", "/proc/sys/net/ipv4/conf/eth0/rp_filter").stdout
    assert out.strip() == "2"
    dockyard.run("rm", "-f", sysctl)
