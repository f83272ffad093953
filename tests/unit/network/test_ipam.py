"""IPAM as arithmetic: subnets, the next free address, --ip, address pools, MACs."""

from __future__ import annotations

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network import ipam
from dockyard.network.ipam import Subnet


def test_subnets_parse_and_refuse_host_bits() -> None:
    net = Subnet("10.1.0.0/16")
    assert (ipam.to_str(net.network), net.prefixlen, ipam.to_str(net.broadcast)) == (
        "10.1.0.0", 16, "10.1.255.255",
    )  # fmt: skip
    assert ipam.to_int("10.1.2.3") in net and ipam.to_int("10.2.0.1") not in net
    with pytest.raises(InvalidArgument, match="host bits set"):
        Subnet("10.1.0.1/16")
    for bad in ("10.1.0.0", "10.1.0.0/33", "300.1.0.0/8", "10.01.0.0/16", "x/8"):
        with pytest.raises(InvalidArgument):
            Subnet(bad)


def test_next_free_skips_network_gateway_broadcast_and_taken() -> None:
    net = Subnet("10.0.0.0/29")  # .0 network, .7 broadcast
    taken = {ipam.to_int("10.0.0.2")}
    assert ipam.next_free(net, taken, gateway="10.0.0.1") == "10.0.0.3"
    full = {ipam.to_int(f"10.0.0.{i}") for i in range(2, 7)}
    with pytest.raises(Conflict, match="no available IPv4 addresses"):
        ipam.next_free(net, full, gateway="10.0.0.1")


def test_an_ip_range_bounds_the_allocation() -> None:
    net = Subnet("10.0.0.0/24")
    pool = Subnet("10.0.0.128/25")
    assert ipam.next_free(net, set(), pool, "10.0.0.1") == "10.0.0.128"
    assert ipam.next_free(net, {ipam.to_int("10.0.0.128")}, pool, "10.0.0.1") == "10.0.0.129"


def test_claim_honours_ip_and_refuses_taken_or_outside() -> None:
    net = Subnet("10.0.0.0/24")
    assert ipam.claim(net, "10.0.0.50", set(), "10.0.0.1") == "10.0.0.50"
    with pytest.raises(Conflict, match="Address already in use"):
        ipam.claim(net, "10.0.0.50", {ipam.to_int("10.0.0.50")}, "10.0.0.1")
    with pytest.raises(Conflict):
        ipam.claim(net, "10.0.0.1", set(), "10.0.0.1")
    with pytest.raises(InvalidArgument, match="no matching subnet"):
        ipam.claim(net, "10.9.0.5", set(), "10.0.0.1")


def test_pick_subnet_walks_the_pools_around_used_networks_and_host_routes() -> None:
    pools = [("172.17.0.0/16", 16), ("172.18.0.0/15", 16), ("192.168.0.0/16", 20)]
    assert str(ipam.pick_subnet(pools, [], [])) == "172.17.0.0/16"
    # a host route inside 172.17: the default bridge moves to the next block
    assert str(ipam.pick_subnet(pools, [], [Subnet("172.17.5.0/24")])) == "172.18.0.0/16"
    used = [Subnet("172.17.0.0/16"), Subnet("172.18.0.0/16"), Subnet("172.19.0.0/16")]
    assert str(ipam.pick_subnet(pools, used, [])) == "192.168.0.0/20"
    with pytest.raises(Conflict, match="fully subnetted"):
        ipam.pick_subnet([("10.0.0.0/24", 24)], [Subnet("10.0.0.0/16")], [])


def test_pools_from_the_environment() -> None:
    assert ipam.parse_pools("10.88.0.0/16:24, 10.99.0.0/16") == [
        ("10.88.0.0/16", 24), ("10.99.0.0/16", 24),
    ]  # fmt: skip
    with pytest.raises(InvalidArgument, match="size"):
        ipam.parse_pools("10.88.0.0/16:8")


def test_macs_follow_the_address_as_dockers_do() -> None:
    assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"
    assert ipam.valid_mac("92:d0:c6:0a:29:33") and not ipam.valid_mac("92:d0:c6:0a:29")
