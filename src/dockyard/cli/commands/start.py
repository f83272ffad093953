"""Start one or more stopped containers."""

from __future__ import annotations

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
MIN_ARGS = 1
FLAGS = [
    Flag("attach", "a", help="Attach STDOUT/STDERR and forward signals"),
    Flag("interactive", "i", help="Attach container's STDIN"),
    Flag("detach-keys", kind=VALUE, help="Override the key sequence for detaching a container"),
]


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.lifecycle import start

    engine = ctx.engine()
    if p.attach or p.interactive:
        return _attached(p, ctx)

    def act(name: str) -> str:
        start(engine, name)
        return name

    return for_each("start", p.args, act, "failed to start containers")


def _attached(p: Parsed, ctx: Context) -> int:
    """``start -a [-i]``: one container, attached until it ends; its exit status."""
    from dockyard.cli.commands._terminal import (
        Interrupted,
        check_tty,
        container_ctl,
        proxy_signals,
        user_stdio,
    )
    from dockyard.engine.attach import parse_detach_keys
    from dockyard.engine.run import start_attached
    from dockyard.errors import InvalidArgument

    if len(p.args) != 1:
        raise InvalidArgument(
            "you cannot start and attach multiple containers at once"
            if p.args
            else '"start" requires at least 1 argument'
        )
    engine = ctx.engine()
    keys = parse_detach_keys(str(p.detach_keys))
    rec = engine.containers.find(p.args[0])
    tty = rec.config.tty
    stdin = bool(p.interactive) and rec.config.open_stdin
    check_tty(stdin, tty)
    if not tty:
        proxy_signals(engine, rec)
    fg, terminal = user_stdio(tty, stdin, keys, lambda r: container_ctl(engine, r.id))
    with terminal:
        try:
            return start_attached(engine, rec, fg)
        except Interrupted as exc:
            return 128 + exc.signum
