"""Export a container's filesystem as a tar archive."""

from __future__ import annotations

import sys

from dockyard.cli.commands import _args
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER"
FLAGS = [Flag("output", "o", VALUE, help="Write to a file, instead of STDOUT")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._output import check_output, output_file
    from dockyard.engine.export import export
    from dockyard.errors import InvalidArgument

    (name,) = _args.exactly("export", p.args, 1)
    if p.output:
        check_output(str(p.output))  # before any work, as Docker does
    elif sys.stdout.isatty():
        raise InvalidArgument(
            "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        )
    engine = ctx.engine()
    if p.output:
        with output_file(str(p.output)) as out:
            export(engine, name, out)
    else:
        export(engine, name, sys.stdout.buffer)
    return 0
