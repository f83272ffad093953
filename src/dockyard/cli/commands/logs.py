"""Fetch the logs of a container."""

from __future__ import annotations

from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER"
FLAGS = [
    Flag("details", help="Show extra details provided to logs"),
    Flag("follow", "f", help="Follow log output"),
    Flag("since", kind=VALUE, help="Show logs since timestamp or relative (e.g. 42m)"),
    Flag("tail", "n", VALUE, default="all", help="Number of lines to show from the end"),
    Flag("timestamps", "t", help="Show timestamps"),
    Flag("until", kind=VALUE, help="Show logs before a timestamp or relative (e.g. 42m)"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine import logs
    from dockyard.engine.attach import write_all
    from dockyard.errors import InvalidArgument

    if len(p.args) != 1:
        raise InvalidArgument('"logs" requires exactly 1 argument')
    engine = ctx.engine()
    rec = engine.containers.find(p.args[0])
    stamps = bool(p.timestamps)
    # --details: the log's attributes (none here: no labels/env log options) and a space
    details = b" " if p.details else b""

    def emit(entry: logs.LogEntry) -> None:
        data = details + entry.text
        if stamps:
            data = entry.time.encode() + b" " + data
        write_all(2 if entry.stream == "stderr" else 1, data)

    logs.read(engine, rec, emit, bool(p.follow), str(p.since), str(p.until), str(p.tail))
    return 0
