"""delete [-f] ID: remove a stopped container (-f: kill it first)."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import flag, parse
from dockyard.runtime.delete import delete

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(argv, [flag("--force", "-f")], command="delete")
    delete(ctx.root, container_id(parsed, "delete"), bool(parsed.force), ctx.warn)
    return 0
