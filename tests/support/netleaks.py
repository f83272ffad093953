"""What Dockyard's networking leaves on the host, for the tests' leak checks and cleanup.

Tests give every engine a default bridge named ``dyt<session 4 hex><test 4 hex>``
and a random 10.128-254.x.0/24 subnet no host route has, so that tests (and
other test sessions on the same machine) never share a bridge or a subnet,
and what a session made can be told by name.
"""

from __future__ import annotations

import json
import random
import secrets
import subprocess
from pathlib import Path

BRIDGE_PREFIX = "dyt"
#: named network namespaces (``ip netns``) the tests make: ``dytest-<session 4 hex>...``
NETNS_PREFIX = "dytest-"
NETNS_DIR = Path("/run/netns")


def bridge_name(session_marker: str) -> str:
    return f"{BRIDGE_PREFIX}{session_marker[:4]}{secrets.token_hex(2)}"


def _routes() -> list[tuple[int, int]]:
    out = []
    for line in Path("/proc/net/route").read_text().splitlines()[1:]:
        fields = line.split()
        dest, mask = int(fields[1], 16), int(fields[7], 16)
        # little-endian in the file
        out.append(
            (
                int.from_bytes(dest.to_bytes(4, "little"), "big"),
                int.from_bytes(mask.to_bytes(4, "little"), "big"),
            )
        )
    return out


def free_subnet(prefixlen: int = 24) -> str:
    """A random 10.x block (x >= 128) that overlaps no route on the host."""
    routes = _routes()
    size = 1 << (32 - prefixlen)
    for _ in range(1000):
        base = (10 << 24) | random.randrange(128 << 16, 255 << 16) & ~(size - 1)
        if not any(
            (base & mask) == dest or (dest & ~(size - 1) & 0xFFFFFFFF) == base
            for dest, mask in routes
            if mask
        ):
            return f"{base >> 24}.{base >> 16 & 255}.{base >> 8 & 255}.{base & 255}/{prefixlen}"
    raise RuntimeError("no free 10.x subnet for a test network")


def interfaces() -> dict[str, str]:
    """Every interface on the host: name -> master's name ("" if none)."""
    found = json.loads(
        subprocess.run(
            ["ip", "-j", "link", "show"], capture_output=True, text=True, check=True
        ).stdout
    )
    return {link["ifname"]: link.get("master", "") for link in found}


def nft_tables() -> dict[str, str]:
    """Dockyard's nftables tables: name -> the table's listing (JSON text)."""
    out = {}
    listing = subprocess.run(["nft", "-j", "list", "tables", "ip"], capture_output=True, text=True)
    if listing.returncode != 0:
        return out
    for item in json.loads(listing.stdout).get("nftables", []):
        name = item.get("table", {}).get("name", "")
        if name.startswith("dockyard-"):
            body = subprocess.run(
                ["nft", "-j", "list", "table", "ip", name], capture_output=True, text=True
            )
            out[name] = body.stdout
    return out


def session_leftovers(session_marker: str, before: set[str]) -> tuple[list[str], list[str]]:
    """(interfaces, tables) this session made and left: its bridges, veths in them or
    in no bridge that were not there before, tables naming its bridges."""
    ours = f"{BRIDGE_PREFIX}{session_marker[:4]}"
    links = interfaces()
    names = sorted(
        name
        for name, master in links.items()
        if name.startswith(ours)
        or (
            name.startswith("dyv")
            and name not in before
            and (master.startswith(ours) or not master)
        )
    )
    tables = sorted(name for name, body in nft_tables().items() if f'"{ours}' in body)
    return names, tables


def session_routes(session_marker: str) -> list[str]:
    """Routes (any table) through this session's bridges and second hosts' links: they
    go with those interfaces, so one still there is a leak beside its interface."""
    ours = f"{BRIDGE_PREFIX}{session_marker[:4]}"
    listing = subprocess.run(
        ["ip", "-j", "route", "show", "table", "all"], capture_output=True, text=True
    )
    if listing.returncode != 0:
        return []
    return sorted(
        f"{route.get('dst', '?')} dev {route['dev']}"
        for route in json.loads(listing.stdout or "[]")
        if str(route.get("dev", "")).startswith(ours)
    )


def session_namespaces(session_marker: str) -> list[str]:
    """Named network namespaces this session made (a second "host", the resolver's
    tests) that are still there."""
    ours = f"{NETNS_PREFIX}{session_marker[:4]}"
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(ours))
    except FileNotFoundError:
        return []


def remove_namespaces(names: list[str]) -> None:
    for name in names:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def remove(names: list[str], tables: list[str]) -> None:
    for name in names:
        subprocess.run(["ip", "link", "del", name], capture_output=True)
    for table in tables:
        subprocess.run(["nft", "delete", "table", "ip", table], capture_output=True)


def engine_leftovers(bridges: set[str], run_root: Path) -> tuple[list[str], list[str]]:
    """(interfaces, tables) of one test's engine: its bridges, their ports, its tables."""
    links = interfaces()
    names = sorted(n for n, m in links.items() if n in bridges or m in bridges)
    tables = sorted(
        name for name, body in nft_tables().items() if any(f'"{b}"' in body for b in bridges)
    )
    netns = run_root / "netns"
    if netns.exists():
        names += [f"netns file {p}" for p in netns.iterdir()]
    return names, tables


def redirect_programs(under: str) -> list[str]:
    """Port redirect programs (network/port_redirect.py) still attached to the cgroup
    root for engines whose root is under ``under``: "tag (owner)"."""
    from dockyard.network import port_redirect

    return sorted(
        f"dyc_{tag} ({owner})"
        for tag, owner in port_redirect.attached().items()
        if owner.startswith(under)
    )


def remove_redirect_programs(under: str) -> None:
    from dockyard.network import port_redirect

    port_redirect.detach_owned_under(under)
