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

RAW = (
    "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\n"
    "created_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\n"
    "status: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
    "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n"
)


def _format(source: str, quiet: bool, size: bool) -> str:
    """docker/cli's NewContainerFormat: what --format, -q and -s make of the output."""
    from dockyard.cli.formatter.rows import ContainerRow

    if source in ("", "table"):
        if quiet:
            return "{{.ID}}"
        return ContainerRow.TABLE + ("\\t{{.Size}}" if size else "")
    if source == "raw":
        if quiet:
            return "container_id: {{.ID}}"
        return RAW + ("size: {{.Size}}\\n" if size else "")
    return "{{.ID}}" if quiet else source


def _check(source: str) -> None:
    """Docker parses the template and runs it once over an empty row before listing,
    so a bad one fails the same way whether or not there are containers."""
    from dockyard.cli.formatter.format import execute, parse
    from dockyard.cli.formatter.rows import ContainerRow
    from dockyard.cli.gotemplate.errors import ExecError

    tmpl = parse(source, "failed to parse template")
    try:
        execute(tmpl, ContainerRow({}, {}))
    except ExecError as exc:
        message = str(exc).removeprefix("template parsing error: ")
        raise ExecError(f"failed to execute template: {message}") from exc


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.formatter.format import render
    from dockyard.cli.formatter.rows import ContainerRow
    from dockyard.engine.clock import parse_ns
    from dockyard.engine.listing import parse_filters, row, select, size_text
    from dockyard.engine.parse import parse_int
    from dockyard.oci.units import go_time

    source = str(p.format)
    if source and p.quiet:
        sys.stderr.write(
            "WARNING: Ignoring custom format, because both --format and --quiet are set.\n"
        )
    if source:
        _check(source)
    engine = ctx.engine()
    last = 1 if p.latest else parse_int(str(p.last), "--last")
    records = select(engine, bool(p.all), last, parse_filters(list(p.filter)))
    rows = []
    for rec in records:
        fields = row(engine, rec, bool(p.no_trunc))
        # Go's time.Unix(created).String(): the local zone, as docker ps shows it
        fields["CreatedAt"] = go_time(parse_ns(rec.created) / 1e9)
        rows.append(
            ContainerRow(
                fields,
                dict(rec.config.labels),
                lambda rec=rec: size_text(engine, rec),  # type: ignore[misc]
            )
        )
    fmt = _format(source, bool(p.quiet), bool(p.size))
    sys.stdout.write(render(fmt, rows, ContainerRow.HEADERS))
    return 0
