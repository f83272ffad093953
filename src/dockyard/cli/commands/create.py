"""Create a new container."""

from __future__ import annotations

import sys

from dockyard.cli.commands._run_options import FLAGS, INTERSPERSED, SYNOPSIS, request_from

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

__all__ = ["ERROR_PREFIX", "FLAGS", "INTERSPERSED", "MIN_ARGS", "SYNOPSIS", "exit_code_for", "run"]
MIN_ARGS = 1  # the image
# Docker's CLI: what the daemon refuses is "Error response from daemon: ..." and exit 1;
# an option it cannot read is its own error, exit 125
ERROR_PREFIX = "Error response from daemon: "


def exit_code_for(exc: Exception) -> int:
    return 1


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.create import create
    from dockyard.errors import DockyardError

    try:
        req, from_v = request_from(p)
    except DockyardError as exc:
        sys.stderr.write(f"dockyard: {exc}\nSee 'dockyard create --help'.\n")
        return 125
    progress = open("/dev/null", "w") if p.quiet else sys.stderr  # noqa: SIM115
    rec = create(ctx.engine(), req, progress, from_v)
    sys.stdout.write(rec.id + "\n")
    return 0
