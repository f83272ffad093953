"""A network's nftables table, as libnftables JSON: NAT out, published ports in, isolation.

Each network has a table of its own, ``ip dockyard-<network id>``, so that a
host firewall sees Dockyard's rules by name and orders its own around them,
and removing a network (or a leftover) is one ``delete table``:

    chain prerouting   nat, dstnat:  to a local address -> jump publish
    chain output       nat, -100:    the same for the host's own connections
    chain publish      one DNAT rule per published port, commented with its container's id
    chain postrouting  nat, srcnat:  masquerade what leaves the subnet (not --internal);
                                     what comes from 127.0.0.0/8 (the host's loopback) or
                                     from the bridge back into it after a DNAT (hairpin)
    chain forward      filter:       (--internal only) nothing in or out of the bridge
    chain input        filter:       nothing new from the bridge to 127.0.0.0/8

The host's 127.0.0.1 reaches a published port through the output chain's
DNAT plus ``route_localnet`` on the bridge (as Docker does without its
userland proxy): no proxy process, and the connection keeps the kernel's
speed (bench/network_run measures it).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.network.backend import NetworkSpec, PortRule

FAMILY = "ip"
PUBLISH = "publish"


def _match(left: dict[str, Any], right: Any, op: str = "==") -> dict[str, Any]:
    return {"match": {"op": op, "left": left, "right": right}}


def _meta(key: str) -> dict[str, Any]:
    return {"meta": {"key": key}}


def _payload(protocol: str, field: str) -> dict[str, Any]:
    return {"payload": {"protocol": protocol, "field": field}}


def _prefix(cidr: str) -> dict[str, Any]:
    addr, _, length = cidr.partition("/")
    return {"prefix": {"addr": addr, "len": int(length)}}


_LOCAL = _match({"fib": {"result": "type", "flags": ["daddr"]}}, "local")


def _rule(net: NetworkSpec, chain: str, *expr: dict[str, Any], comment: str = "") -> dict[str, Any]:
    rule: dict[str, Any] = {
        "family": FAMILY,
        "table": net.table,
        "chain": chain,
        "expr": list(expr),
    }
    if comment:
        rule["comment"] = comment
    return {"add": {"rule": rule}}


def _chain(
    net: NetworkSpec, name: str, kind: str = "", hook: str = "", prio: int = 0
) -> dict[str, Any]:
    chain: dict[str, Any] = {"family": FAMILY, "table": net.table, "name": name}
    if hook:
        chain.update(type=kind, hook=hook, prio=prio, policy="accept")
    return {"add": {"chain": chain}}


def table_commands(net: NetworkSpec) -> list[dict[str, Any]]:
    """The network's whole table, made anew (an old one's rules flushed) in one batch."""
    table = {"family": FAMILY, "name": net.table}
    subnet = _prefix(net.subnet)
    bridge = net.bridge
    out: list[dict[str, Any]] = [
        {"add": {"table": table}},
        {"flush": {"table": table}},
        _chain(net, "prerouting", "nat", "prerouting", -100),
        _chain(net, "output", "nat", "output", -100),
        _chain(net, PUBLISH),
        _chain(net, "postrouting", "nat", "postrouting", 100),
        # route_localnet (below) must not open the host's 127.0.0.1 to the containers: a
        # container with CAP_NET_RAW can send a packet for 127.0.0.1 to the gateway's MAC
        # (CVE-2020-8558's shape). Only replies of the host's own connections may come in.
        _chain(net, "input", "filter", "input", 0),
        _rule(
            net,
            "input",
            _match(_meta("iifname"), bridge),
            _match(_payload("ip", "daddr"), _prefix("127.0.0.0/8")),
            _match({"ct": {"key": "state"}}, ["new", "invalid", "untracked"], "in"),
            {"drop": None},
        ),
        _rule(net, "prerouting", _LOCAL, {"jump": {"target": PUBLISH}}),
        _rule(net, "output", _LOCAL, {"jump": {"target": PUBLISH}}),
        _rule(
            net,
            "postrouting",
            _match(_meta("oifname"), bridge),
            _match(_payload("ip", "saddr"), _prefix("127.0.0.0/8")),
            {"masquerade": None},
        ),
        # hairpin: a container to a published port, DNATed back into its own bridge (the
        # host's own connections have no input interface: they keep their address)
        _rule(
            net,
            "postrouting",
            _match(_meta("iifname"), bridge),
            _match(_meta("oifname"), bridge),
            _match({"ct": {"key": "status"}}, "dnat", "in"),
            {"masquerade": None},
        ),
    ]
    if net.internal:
        # a filter chain sees every packet: only internal networks have one
        out += [
            _chain(net, "forward", "filter", "forward", 0),
            _rule(
                net,
                "forward",
                _match(_meta("iifname"), bridge),
                _match(_meta("oifname"), bridge, "!="),
                {"drop": None},
            ),
            _rule(
                net,
                "forward",
                _match(_meta("oifname"), bridge),
                _match(_meta("iifname"), bridge, "!="),
                {"drop": None},
            ),
        ]
    elif net.masquerade:
        out.append(
            _rule(
                net,
                "postrouting",
                _match(_payload("ip", "saddr"), subnet),
                _match(_meta("oifname"), bridge, "!="),
                {"masquerade": None},
            )
        )
    return out


def delete_table(net_table: str) -> list[dict[str, Any]]:
    return [{"delete": {"table": {"family": FAMILY, "name": net_table}}}]


def publish_commands(
    net: NetworkSpec, container_id: str, rules: list[PortRule]
) -> list[dict[str, Any]]:
    out = []
    for r in rules:
        expr: list[dict[str, Any]] = []
        if r.host_ip and r.host_ip != "0.0.0.0":
            expr.append(_match(_payload("ip", "daddr"), r.host_ip))
        expr += [
            _match(_meta("l4proto"), r.proto),
            _match(_payload(r.proto, "dport"), r.host_port),
            {"dnat": {"addr": r.container_ip, "port": r.container_port}},
        ]
        out.append(_rule(net, PUBLISH, *expr, comment=container_id))
    return out


def list_publish(net: NetworkSpec) -> list[dict[str, Any]]:
    return [{"list": {"chain": {"family": FAMILY, "table": net.table, "name": PUBLISH}}}]


def rules_of(answer: dict[str, Any]) -> list[tuple[int, str]]:
    """(handle, comment) of each rule in a listing."""
    out = []
    for item in answer.get("nftables", []):
        rule = item.get("rule") if isinstance(item, dict) else None
        if rule:
            out.append((int(rule.get("handle", 0)), str(rule.get("comment", ""))))
    return out


def delete_rules(net: NetworkSpec, handles: list[int]) -> list[dict[str, Any]]:
    return [
        {"delete": {"rule": {"family": FAMILY, "table": net.table, "chain": PUBLISH, "handle": h}}}
        for h in handles
    ]


def list_tables() -> list[dict[str, Any]]:
    return [{"list": {"tables": {"family": FAMILY}}}]


def table_names(answer: dict[str, Any]) -> list[str]:
    return [
        str(item["table"]["name"])
        for item in answer.get("nftables", [])
        if isinstance(item, dict) and "table" in item
    ]
