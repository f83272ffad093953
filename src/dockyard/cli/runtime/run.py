"""run ID [-b DIR] [-d] [--keep]: create and start; wait and return the exit status."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id, create_flags, create_options
from dockyard.cli.runtime_args import flag, parse
from dockyard.runtime.run import run as run_container

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    flags = [
        *create_flags(),
        flag("--detach", "-d"),
        flag("--keep"),
        flag("--no-subreaper"),
        flag("--detach-keys", value=True),
    ]
    parsed = parse(argv, flags, command="run")
    opts = create_options(parsed, ctx.rootless)
    return run_container(
        ctx.root,
        container_id(parsed, "run"),
        opts,
        bool(parsed.detach),
        bool(parsed.keep),
        ctx.warn,
    )
