"""Display detailed information on one or more networks."""

from __future__ import annotations

import sys

from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] NETWORK [NETWORK...]"
FLAGS = [
    Flag("format", "f", VALUE, help="Format output using a custom template"),
    Flag("verbose", "v", help="Verbose output for diagnostics"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands.inspect import show
    from dockyard.engine.network_json import network_json
    from dockyard.errors import DockyardError, InvalidArgument

    if not p.args:
        raise InvalidArgument('"network inspect" requires at least 1 argument')
    engine = ctx.engine()
    found, status = [], 0
    for name in p.args:
        try:
            found.append(network_json(engine, engine.networks.find(name)))
        except DockyardError as exc:
            sys.stderr.write(f"Error: {exc}\n")
            status = 1
    show(found, str(p.format))
    return status
