"""Display detailed information on one or more networks."""

from __future__ import annotations

from dockyard.cli.commands.inspect import exit_code_for, inspect_all
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

__all__ = ["FLAGS", "SYNOPSIS", "exit_code_for", "run"]

SYNOPSIS = "[OPTIONS] NETWORK [NETWORK...]"
FLAGS = [
    Flag("format", "f", VALUE, help="Format output using a custom template"),
    Flag("verbose", "v", help="Verbose output for diagnostics"),
]


def run(p: Parsed, ctx: Context) -> int:
    return inspect_all(ctx, p, "network")
