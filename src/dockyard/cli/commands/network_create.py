"""Create a network."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] NETWORK"
FLAGS = [
    Flag("driver", "d", VALUE, default="bridge", help="Driver to manage the Network"),
    Flag("subnet", kind=LIST, help="Subnet in CIDR format that represents a network segment"),
    Flag("gateway", kind=LIST, help="IPv4 Gateway for the master subnet"),
    Flag("ip-range", kind=LIST, help="Allocate container ip from a sub-range"),
    Flag("internal", help="Restrict external access to the network"),
    Flag("attachable", help="Enable manual container attachment"),
    Flag("label", kind=LIST, help="Set metadata on a network"),
    Flag("opt", "o", LIST, help="Set driver specific options"),
    Flag("ipv6", help="Enable IPv6 networking"),
]


def _one(values: list[str], flag: str) -> str:
    from dockyard.errors import InvalidArgument

    if len(values) > 1:
        raise InvalidArgument(f"only one {flag} per network is supported (IPv4 only)")
    return values[0] if values else ""


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.parse import labels
    from dockyard.errors import InvalidArgument, Unsupported

    if len(p.args) != 1:
        raise InvalidArgument('"network create" requires exactly 1 argument')
    if p.ipv6:
        raise Unsupported("IPv6 networks are not supported")
    options = {}
    for item in p.opt:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgument(f"invalid key/value pair format in driver options: {item}")
        options[key] = value
    net = ctx.engine().networks.create(
        p.args[0],
        str(p.driver),
        _one(list(p.subnet), "--subnet"),
        _one(list(p.gateway), "--gateway"),
        _one(list(p.ip_range), "--ip-range"),
        bool(p.internal),
        labels(list(p.label)),
        options,
        bool(p.attachable),
    )
    sys.stdout.write(net.id + "\n")
    return 0
