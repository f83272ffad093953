"""List volumes."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("filter", "f", LIST, help="Provide filter values (e.g. dangling=true)"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("quiet", "q", help="Only display volume names"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands.ps import tabwriter
    from dockyard.engine.volume_json import select, volume_row

    engine = ctx.engine()
    volumes = select(engine, list(p.filter))
    if p.quiet:
        sys.stdout.write("".join(f"{v.name}\n" for v in volumes))
        return 0
    rows = [volume_row(v) for v in volumes]
    if p.format:
        from dockyard.cli.commands._format import format_rows

        sys.stdout.write(format_rows(str(p.format), rows))
        return 0
    table = [["DRIVER", "VOLUME NAME"]] + [[r["Driver"], r["Name"]] for r in rows]
    sys.stdout.write(tabwriter(table))
    return 0
