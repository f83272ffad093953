"""start ID: let a created container's process run."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import parse
from dockyard.runtime.start import start

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(argv, [], command="start")
    start(ctx.root, container_id(parsed, "start"), ctx.warn)
    return 0
