"""List networks."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag
from dockyard.cli.formatter.rows import Row, labels_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.engine.network_types import NetworkRecord

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("filter", "f", LIST, help="Provide filter values (e.g. 'driver=bridge')"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("no-trunc", help="Do not truncate the output"),
    Flag("quiet", "q", help="Only display network IDs"),
]


class NetworkRow(Row):
    """docker/cli's networkContext."""

    GO_TYPE = "*formatter.networkContext"
    HEADERS = {
        "ID": "NETWORK ID",
        "Name": "NAME",
        "Driver": "DRIVER",
        "Scope": "SCOPE",
        "IPv6": "IPV6",
        "Internal": "INTERNAL",
        "Labels": "LABELS",
        "CreatedAt": "CREATED AT",
    }
    FIELDS = ("CreatedAt", "Driver", "ID", "IPv6", "Internal", "Labels", "Name", "Scope")
    TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

    def __init__(self, net: NetworkRecord, no_trunc: bool) -> None:
        from dockyard.engine.clock import parse_ns
        from dockyard.oci.units import go_time

        self.ID = net.id if no_trunc else net.id[:12]
        self.Name = net.name
        self.Driver = net.driver
        self.Scope = "local"
        self.IPv6 = "false"
        self.Internal = "true" if net.internal else "false"
        self.Labels = labels_text(net.labels)
        self.CreatedAt = go_time(parse_ns(net.created) / 1e9)
        self._labels = dict(net.labels)

    def Label(self, name: str) -> str:
        return self._labels.get(name, "")


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.formatter.format import TABLE, render
    from dockyard.engine.network_filters import matcher

    engine = ctx.engine()
    keep = matcher(list(p.filter), ("driver", "id", "label", "name", "scope", "type", "dangling"))
    users = dict(engine.db.query("SELECT network, COUNT(*) FROM endpoints GROUP BY network"))
    nets = [n for n in engine.networks.all() if keep(n, users.get(n.id, 0))]
    nets.sort(key=lambda n: n.name)
    fmt = str(p.format) or TABLE
    if fmt == TABLE:
        fmt = "{{.ID}}" if p.quiet else NetworkRow.TABLE
    sys.stdout.write(
        render(fmt, [NetworkRow(n, bool(p.no_trunc)) for n in nets], NetworkRow.HEADERS)
    )
    return 0
