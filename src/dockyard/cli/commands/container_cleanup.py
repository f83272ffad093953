"""Clean up after a container that has exited (run by its monitor; not for users)."""

from __future__ import annotations

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER"
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.exits import cleanup
    from dockyard.errors import NotFound

    engine = ctx.engine()
    for container_id in p.args:
        try:
            rec = engine.containers.get(container_id)
        except NotFound:
            continue  # removed already (rm -f, a foreground --rm)
        with engine.lock(rec.id):
            try:
                cleanup(engine, engine.containers.get(rec.id))
            except NotFound:
                continue
    return 0
