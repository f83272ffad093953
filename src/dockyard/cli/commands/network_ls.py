"""List networks."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("filter", "f", LIST, help="Provide filter values (e.g. 'driver=bridge')"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("no-trunc", help="Do not truncate the output"),
    Flag("quiet", "q", help="Only display network IDs"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands.ps import tabwriter
    from dockyard.engine.network_filters import matcher, network_row

    engine = ctx.engine()
    keep = matcher(list(p.filter), ("driver", "id", "label", "name", "scope", "type", "dangling"))
    users = {
        n: c for n, c in engine.db.query("SELECT network, COUNT(*) FROM endpoints GROUP BY network")
    }
    nets = [n for n in engine.networks.all() if keep(n, users.get(n.id, 0))]
    nets.sort(key=lambda n: n.name)
    rows = [network_row(n, bool(p.no_trunc)) for n in nets]
    if p.quiet:
        sys.stdout.write("".join(f"{r['ID']}\n" for r in rows))
        return 0
    if p.format:
        from dockyard.cli.commands._format import format_rows

        sys.stdout.write(format_rows(str(p.format), rows))
        return 0
    table = [["NETWORK ID", "NAME", "DRIVER", "SCOPE"]]
    table += [[r["ID"], r["Name"], r["Driver"], r["Scope"]] for r in rows]
    sys.stdout.write(tabwriter(table))
    return 0
