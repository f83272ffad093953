"""ps [-f table|json] ID [ps options]: the container's processes."""

from __future__ import annotations

import sys

from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import InvalidArgument
from dockyard.oci.jsonio import dumps
from dockyard.runtime.ps import host_ps, pids

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(
        argv,
        [flag("--format", "-f", value=True, default="table")],
        stop_at_positional=True,
        command="ps",
    )
    if not parsed.args:
        raise InvalidArgument('"ps" requires a container id')
    found = pids(ctx.root, parsed.args[0])
    if parsed.format == "json":
        if len(parsed.args) > 1:
            raise InvalidArgument("ps options cannot go with -f json")
        print(dumps(found))
        return 0
    if parsed.format != "table":
        raise InvalidArgument(f"invalid format {parsed.format!r}: use table or json")
    sys.stdout.write(host_ps(found, parsed.args[1:]))
    return 0
