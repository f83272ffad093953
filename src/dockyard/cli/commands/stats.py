"""Display a live stream of container(s) resource usage statistics."""

from __future__ import annotations

import sys
import time

from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

SYNOPSIS = "[OPTIONS] [CONTAINER...]"
FLAGS = [
    Flag("all", "a", help="Show all containers (default shows just running)"),
    Flag("format", kind=VALUE, help="Format output using a custom template"),
    Flag("no-stream", help="Disable streaming stats and only pull the first result"),
    Flag("no-trunc", help="Do not truncate output"),
]
ERROR_PREFIX = "Error response from daemon: "
CLEAR = "\033[2J\033[H"  # docker/cli's: clear the screen, cursor home, before each frame


class Tracked:
    """One container's column of figures: what the user called it, its last sample."""

    __slots__ = ("label", "last", "rec", "shown")

    def __init__(self, label: str, rec: ContainerRecord) -> None:
        self.label = label
        self.rec = rec
        self.last: dict[str, Any] | None = None
        self.shown = False


def _watched(engine: Engine, names: list[str], all_: bool) -> list[tuple[str, ContainerRecord]]:
    """Named containers as named; otherwise the running ones (all with -a), newest first."""
    if names:
        return [(name, engine.containers.find(name)) for name in names]
    from dockyard.engine.listing import select

    return [(rec.id[:12], rec) for rec in select(engine, all_, -1, {})]


def _row(engine: Engine, tracked: Tracked, trunc: bool) -> object:
    from dockyard.cli.formatter.stats_row import StatsRow
    from dockyard.engine.clock import ZERO
    from dockyard.engine.stats import sample
    from dockyard.errors import NotFound

    try:
        doc: dict[str, Any] | None = sample(engine, tracked.rec, tracked.last)
    except NotFound:
        doc = None
    # not running: Docker shows its zero sample first, then "--" once its stream ended
    valid = doc is not None and (doc["read"] != ZERO or not tracked.shown)
    tracked.last = doc if doc is not None and doc["read"] != ZERO else None
    tracked.shown = True
    return StatsRow(tracked.label, doc, trunc, valid)


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.formatter.format import render
    from dockyard.cli.formatter.stats_row import TABLE, StatsRow
    from dockyard.engine.stats import INTERVAL
    from dockyard.errors import NotFound

    engine = ctx.engine()
    fmt = str(p.format) or "table"
    if fmt == "table":
        fmt = TABLE
    errors = []
    tracked: dict[str, Tracked] = {}
    for name in p.args:
        try:
            tracked[name] = Tracked(name, engine.containers.find(name))
        except NotFound as exc:
            errors.append(str(exc))
    if errors:
        sys.stderr.write("".join(f"{ERROR_PREFIX}{e}\n" for e in errors))
        return 1
    trunc = not p.no_trunc
    if p.no_stream:
        found = _watched(engine, list(p.args), bool(p.all))
        first = [Tracked(label, rec) for label, rec in found]
        for item in first:
            _row(engine, item, trunc)  # the previous sample, for the CPU between two
        if any(item.last for item in first):
            time.sleep(INTERVAL)
        rows = []
        for item in first:
            item.shown = False
            rows.append(_row(engine, item, trunc))
        sys.stdout.write(render(fmt, rows, StatsRow.HEADERS))
        return 0
    while True:
        if not p.args:
            current = {}
            for label, rec in _watched(engine, [], bool(p.all)):
                current[rec.id] = tracked.get(rec.id) or Tracked(label, rec)
            tracked = current
        rows = [_row(engine, item, trunc) for item in tracked.values()]
        sys.stdout.write(CLEAR + render(fmt, rows, StatsRow.HEADERS))
        sys.stdout.flush()
        if p.args and not tracked:
            return 0
        time.sleep(INTERVAL)
