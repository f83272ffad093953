"""List containers."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("all", "a", help="Show all containers (default shows just running)"),
    Flag("filter", "f", LIST, help="Filter output based on conditions provided"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag(
        "last",
        "n",
        VALUE,
        default="-1",
        help="Show n last created containers (includes all states)",
    ),
    Flag("latest", "l", help="Show the latest created container (includes all states)"),
    Flag("no-trunc", help="Don't truncate output"),
    Flag("quiet", "q", help="Only display container IDs"),
    Flag("size", "s", help="Display total file sizes"),
]

#: Docker's default table, column for column
DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
HEADERS = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "RunningFor": "CREATED",
    "CreatedAt": "CREATED AT",
    "Status": "STATUS",
    "State": "STATE",
    "Ports": "PORTS",
    "Names": "NAMES",
    "Size": "SIZE",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "Networks": "NETWORKS",
    "LocalVolumes": "LOCAL VOLUMES",
}


def tabwriter(rows: list[list[str]], minwidth: int = 10) -> str:
    """Go's tabwriter as Docker sets it up: cells padded to max(10, widest + 3), last not
    (``top`` sets a minimum width of 20)."""
    if not rows:
        return ""
    columns = max(len(r) for r in rows)
    widths = [
        max(minwidth, max((len(r[i]) for r in rows if i < len(r) - 1), default=0) + 3)
        for i in range(columns)
    ]
    lines = []
    for r in rows:
        cells = [c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r)]
        lines.append("".join(cells))
    return "\n".join(lines) + "\n"


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.listing import parse_filters, row, select
    from dockyard.engine.parse import parse_int

    engine = ctx.engine()
    last = 1 if p.latest else parse_int(str(p.last), "--last")
    records = select(engine, bool(p.all), last, parse_filters(list(p.filter)))
    if p.quiet and not p.format:
        sys.stdout.write("".join(f"{r.id if p.no_trunc else r.id[:12]}\n" for r in records))
        return 0
    template = str(p.format) or DEFAULT
    if p.size and not p.format:
        template += "\t{{.Size}}"
    rows = [row(engine, r, bool(p.no_trunc), bool(p.size) or "Size" in template) for r in records]
    if template == DEFAULT or (p.size and not p.format):
        fields = [f.strip("{}. ") for f in template.removeprefix("table ").split("\t")]
        table = [[HEADERS[f] for f in fields]] + [[item[f] for f in fields] for item in rows]
        sys.stdout.write(tabwriter(table))
        return 0
    from dockyard.cli.commands._format import format_rows

    sys.stdout.write(format_rows(template, rows))
    return 0
