"""-p as Docker reads it, and the nftables JSON a network and its published ports become."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.network import firewall
from dockyard.network.backend import NetworkSpec, PortRule
from dockyard.network.ports import parse_expose, parse_publish


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("80", [("80/tcp", "", "", "")]),
        ("8080:80", [("80/tcp", "", "8080", "")]),
        ("127.0.0.1:8080:80/udp", [("80/udp", "127.0.0.1", "8080", "")]),
        ("127.0.0.1::80", [("80/tcp", "127.0.0.1", "", "")]),
        ("8000-8001:80-81", [("80/tcp", "", "8000", ""), ("81/tcp", "", "8001", "")]),
        ("8000-8010:80", [("80/tcp", "", "", "8000-8010")]),
        ("80-81", [("80/tcp", "", "", ""), ("81/tcp", "", "", "")]),
    ],
)
def test_publish_specs(spec: str, parsed: list[tuple[str, str, str, str]]) -> None:
    assert parse_publish(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("80/icmp", "invalid proto"),
        ("0:80", "invalid hostPort"),
        ("8000-8002:80-81", "invalid ranges"),
        ("1.2.3:80:80", "invalid IP address"),
        ("a:b:c:d", "invalid published port format"),
        ("[::1]:80:80", "IPv6"),
    ],
)
def test_bad_publish_specs(spec: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_publish(spec)


def test_expose() -> None:
    assert parse_expose("7000-7001/udp") == ["7000/udp", "7001/udp"]


NET = NetworkSpec("ab" * 32, "web", "dy-abab", "10.5.0.0/24", "10.5.0.1")


def _rules(commands: list[dict[str, object]], chain: str) -> list[list[dict[str, object]]]:
    return [
        c["add"]["rule"]["expr"]  # type: ignore[index]
        for c in commands
        if "rule" in c.get("add", {}) and c["add"]["rule"]["chain"] == chain  # type: ignore[attr-defined, index]
    ]


def test_a_network_table_masquerades_out_unless_internal() -> None:
    commands = firewall.table_commands(NET)
    assert commands[0] == {"add": {"table": {"family": "ip", "name": "dockyard-abababababab"}}}
    assert commands[1]["flush"]["table"]["name"] == "dockyard-abababababab"
    out = _rules(commands, "postrouting")
    assert any(
        {"masquerade": None} in r
        and {"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": "dy-abab"}} in r
        for r in out
    )
    assert _rules(commands, "forward") == []

    internal = firewall.table_commands(
        NetworkSpec(NET.id, "web", "dy-abab", "10.5.0.0/24", "10.5.0.1", internal=True)
    )
    assert len(_rules(internal, "forward")) == 2
    assert all({"drop": None} in r for r in _rules(internal, "forward"))
    assert not any(
        {"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": "dy-abab"}} in r
        for r in _rules(internal, "postrouting")
    )


def test_published_ports_are_dnat_rules_commented_with_the_container() -> None:
    commands = firewall.publish_commands(
        NET,
        "c" * 64,
        [
            PortRule("", 8080, "tcp", "10.5.0.2", 80),
            PortRule("127.0.0.1", 5353, "udp", "10.5.0.2", 53),
        ],
    )
    first, second = (c["add"]["rule"] for c in commands)  # type: ignore[index]
    assert first["chain"] == "publish" and first["comment"] == "c" * 64
    assert first["expr"][-1] == {"dnat": {"addr": "10.5.0.2", "port": 80}}
    assert {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "udp", "field": "dport"}},
            "right": 5353,
        }
    } in second["expr"]
    assert second["expr"][0] == {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "ip", "field": "daddr"}},
            "right": "127.0.0.1",
        }
    }
    listing = {"nftables": [{"metainfo": {}}, {"rule": {"handle": 7, "comment": "x"}}]}
    assert firewall.rules_of(listing) == [(7, "x")]


def test_nothing_new_from_the_bridge_reaches_the_hosts_loopback() -> None:
    (rule,) = _rules(firewall.table_commands(NET), "input")
    assert {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "dy-abab"}} in rule
    assert {
        "match": {
            "op": "in",
            "left": {"ct": {"key": "state"}},
            "right": ["new", "invalid", "untracked"],
        }
    } in rule
    assert rule[-1] == {"drop": None}


def test_no_masquerade_when_the_network_says_so() -> None:
    plain = NetworkSpec(NET.id, "web", "dy-abab", "10.5.0.0/24", "10.5.0.1", masquerade=False)
    out = _rules(firewall.table_commands(plain), "postrouting")
    assert not any(
        {"match": {"op": "!=", "left": {"meta": {"key": "oifname"}}, "right": "dy-abab"}} in r
        for r in out
    )
