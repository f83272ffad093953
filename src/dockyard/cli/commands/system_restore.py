"""Bring containers back after a reboot, as Docker's daemon does at its start (once per boot)."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = ""
FLAGS = [Flag("quiet", "q", help="Print nothing but errors")]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.restore import restore
    from dockyard.errors import InvalidArgument

    if p.args:
        raise InvalidArgument('"system restore" accepts no arguments')
    report = restore(ctx.engine())
    if not p.quiet:
        for name in report.exited:
            sys.stdout.write(f"{name}: its end was not seen: exited (255)\n")
        for name in report.started:
            sys.stdout.write(f"{name}: started (restart policy)\n")
        for name in report.removed:
            sys.stdout.write(f"{name}: removed (--rm)\n")
    for name, error in report.failed:
        sys.stderr.write(f"{name}: could not be restored: {error}\n")
    return 1 if report.failed else 0
