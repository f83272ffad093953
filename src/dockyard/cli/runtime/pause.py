"""pause ID: freeze every process of the container."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import parse
from dockyard.runtime.freeze import pause

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    pause(ctx.root, container_id(parse(argv, [], command="pause"), "pause"))
    return 0
