"""Create a new container."""

from __future__ import annotations

import sys

from dockyard.cli.commands._run_options import (
    FLAGS,
    INTERSPERSED,
    SYNOPSIS,
    exit_code_for,
    request_from,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

__all__ = ["FLAGS", "INTERSPERSED", "MIN_ARGS", "SYNOPSIS", "exit_code_for", "run"]
MIN_ARGS = 1  # the image


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.create import create

    req, from_v = request_from(p)
    progress = open("/dev/null", "w") if p.quiet else sys.stderr  # noqa: SIM115
    rec = create(ctx.engine(), req, progress, from_v)
    sys.stdout.write(rec.id + "\n")
    return 0
