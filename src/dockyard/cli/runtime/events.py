"""events [--stats] [--interval 5s] ID: stats and OOM events as JSON lines."""

from __future__ import annotations

import sys

from dockyard.cli.runtime._common import container_id
from dockyard.cli.runtime_args import flag, parse
from dockyard.oci.jsonio import dumps
from dockyard.runtime.events import events, stats_event, wait_interval
from dockyard.runtime.state import ContainerState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context


def run(ctx: Context, argv: list[str]) -> int:
    parsed = parse(
        argv, [flag("--stats"), flag("--interval", value=True, default="5s")], command="events"
    )
    cid = container_id(parsed, "events")
    if parsed.stats:
        state = ContainerState.load(ctx.root, cid)
        state.require("exec")  # created or running: there is a cgroup to read
        print(dumps(stats_event(state)))
        return 0
    for event in events(ctx.root, cid, wait_interval(str(parsed.interval))):
        sys.stdout.write(dumps(event) + "\n")
        sys.stdout.flush()
    return 0
