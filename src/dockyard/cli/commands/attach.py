"""Attach local standard input, output, and error streams to a running container."""

from __future__ import annotations

import sys

from dockyard.cli.flags import BOOL, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER"
FLAGS = [
    Flag("no-stdin", kind=BOOL, help="Do not attach STDIN"),
    Flag("sig-proxy", default=True, help="Proxy all received signals to the process"),
    Flag("detach-keys", kind=VALUE, help="Override the key sequence for detaching a container"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._terminal import (
        Interrupted,
        check_tty,
        container_ctl,
        proxy_signals,
        user_stdio,
    )
    from dockyard.engine.attach import parse_detach_keys
    from dockyard.engine.attach_container import attach
    from dockyard.errors import InvalidArgument

    if len(p.args) != 1:
        raise InvalidArgument('"attach" requires exactly 1 argument')
    engine = ctx.engine()
    keys = parse_detach_keys(str(p.detach_keys))
    rec = engine.containers.find(p.args[0])
    tty = rec.config.tty
    stdin = not p.no_stdin and rec.config.open_stdin
    check_tty(stdin, tty)
    if p.sig_proxy and not tty:
        proxy_signals(engine, rec)
    fg, terminal = user_stdio(tty, stdin, keys, lambda r: container_ctl(engine, r.id), nudge=True)
    with terminal:
        try:
            code = attach(engine, rec.id, fg)
        except Interrupted as exc:
            return 128 + exc.signum
    if code is None:
        sys.stderr.write("read escape sequence\n")  # Docker's word for a detach, and its status
        return 1
    return code
