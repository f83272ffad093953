"""kill [--all] ID [SIGNAL]: send a signal (default SIGTERM) to the container."""

from __future__ import annotations

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import flag, parse
from dockyard.runtime.kill import kill
from dockyard.runtime.signals import parse_signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(argv, [flag("--all", "-a")], command="kill")
    cid = container_id(parsed, "kill", extra=1)
    signal = parse_signal(parsed.args[1] if len(parsed.args) > 1 else "SIGTERM")
    kill(ctx.root, cid, signal, bool(parsed.all))
    return 0
