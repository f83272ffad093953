"""List port mappings or a specific mapping for the container."""

from __future__ import annotations

import sys

from dockyard.cli.flags import Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "CONTAINER [PRIVATE_PORT[/PROTO]]"
FLAGS: list[Flag] = []


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.net_ports import published
    from dockyard.errors import InvalidArgument, NotFound

    if not 1 <= len(p.args) <= 2:
        raise InvalidArgument('"port" requires 1 or 2 arguments')
    engine = ctx.engine()
    rec = engine.containers.find(p.args[0])
    held = published(engine, rec.id)
    if len(p.args) == 2:
        port, _, proto = p.args[1].partition("/")
        proto = proto or "tcp"
        lines = [f"{ip}:{hp}" for pr, ip, hp, cp in held if str(cp) == port and pr == proto]
        if not lines:
            raise NotFound(f"No public port '{port}/{proto}' published for {p.args[0]}")
    else:
        lines = [f"{cp}/{pr} -> {ip}:{hp}" for pr, ip, hp, cp in held]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0
