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
    from dockyard.cli.formatter.format import TABLE, render
    from dockyard.cli.formatter.rows import VolumeRow
    from dockyard.engine.volume_json import select

    engine = ctx.engine()
    volumes = select(engine, list(p.filter))
    fmt = str(p.format) or TABLE
    if fmt == TABLE:  # docker/cli's NewVolumeFormat
        fmt = "{{.Name}}" if p.quiet else VolumeRow.TABLE
    rows = [VolumeRow(v.name, v.driver, v.mountpoint, dict(v.labels)) for v in volumes]
    sys.stdout.write(render(fmt, rows, VolumeRow.HEADERS))
    return 0
