"""create ID --bundle DIR: set up the container; its process waits for start."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id, create_flags, create_options
from dockyard.cli.runtime_args import parse
from dockyard.runtime.create import create

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(argv, create_flags(), command="create")
    opts = create_options(parsed, ctx.rootless)
    create(ctx.root, container_id(parsed, "create"), opts, ctx.warn)
    return 0
