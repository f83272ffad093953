"""Get real time events from the server."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.cli.gotemplate import Template

SYNOPSIS = "[OPTIONS]"
FLAGS = [
    Flag("filter", "f", LIST, help="Filter output based on conditions provided"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("since", kind=VALUE, help="Show all events created since timestamp"),
    Flag("until", kind=VALUE, help="Stream events until this timestamp"),
]
ERROR_PREFIX = "Error response from daemon: "


class FormatError(Exception):
    pass


def _template(source: str) -> Template | None:
    """docker/cli's makeTemplate: parsed, then run once over an empty message."""
    from dockyard.cli.formatter.event_message import EventMessage
    from dockyard.cli.gotemplate import parse
    from dockyard.cli.gotemplate.errors import ExecError, ParseError

    if source == "":
        return None
    if source == "json":
        source = "{{json .}}"
    try:
        tmpl = parse(source)
        tmpl.execute(EventMessage.empty())
    except (ParseError, ExecError) as exc:
        raise FormatError(str(exc)) from None
    return tmpl


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine import event_filter
    from dockyard.engine.event_stream import Subscription
    from dockyard.engine.events import text_line
    from dockyard.errors import InvalidArgument

    if p.args:
        raise InvalidArgument('"events" accepts no arguments')
    try:
        tmpl = _template(str(p.format))
    except FormatError as exc:
        sys.stderr.write(f"Error parsing format: {exc}\n")
        return 64
    for item in p.filter:
        if "=" not in item:  # docker/cli's own flag check, before any request
            sys.stderr.write(
                f'invalid argument "{item}" for "-f, --filter" flag: '
                "bad format of filter (expected name=value)\nSee 'dockyard events --help'.\n"
            )
            return 125
    filters = event_filter.parse(list(p.filter))
    out = sys.stdout
    for event in Subscription(ctx.engine(), str(p.since), str(p.until), filters):
        if tmpl is None:
            out.write(text_line(event))
        else:
            from dockyard.cli.formatter.event_message import EventMessage
            from dockyard.cli.gotemplate.errors import ExecError

            try:
                out.write(tmpl.execute(EventMessage(event)) + "\n")
            except ExecError as exc:
                raise InvalidArgument(str(exc)) from None
        out.flush()
    return 0
