"""Create and run a new container from an image."""

from __future__ import annotations

import sys

from dockyard.cli.commands._run_options import (
    INTERSPERSED,
    RUN_FLAGS,
    SYNOPSIS,
    exit_code_for,
    request_from,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.engine.types import ContainerRecord

FLAGS = RUN_FLAGS
__all__ = ["FLAGS", "INTERSPERSED", "MIN_ARGS", "SYNOPSIS", "exit_code_for", "run"]
MIN_ARGS = 1  # the image

STREAMS = ("stdin", "stdout", "stderr")


def _streams(p: Parsed) -> set[str]:
    """``-a``: the streams to attach (stdout and stderr by default, stdin with -i)."""
    from dockyard.errors import InvalidArgument

    chosen = {s.lower() for s in p.attach}
    for name in chosen:
        if name not in STREAMS:
            raise InvalidArgument(f"invalid argument {name!r} for -a: use stdin, stdout or stderr")
    if not chosen:
        chosen = {"stdout", "stderr", *(["stdin"] if p.interactive else [])}
    return chosen


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._terminal import (
        Interrupted,
        check_tty,
        container_ctl,
        proxy_signals,
        user_stdio,
    )
    from dockyard.engine.attach import parse_detach_keys
    from dockyard.engine.run import run_attached, run_detached
    from dockyard.errors import InvalidArgument

    if p.detach and p.attach:
        raise InvalidArgument("Conflicting options: -a and -d")
    keys = parse_detach_keys(str(p.detach_keys))
    req, from_v = request_from(p)
    engine = ctx.engine()
    progress = open("/dev/null", "w") if p.quiet else sys.stderr  # noqa: SIM115
    if p.detach:
        rec = run_detached(engine, req, progress, from_v)
        sys.stdout.write(rec.id + "\n")
        return 0
    streams = _streams(p)
    stdin = p.interactive and "stdin" in streams
    check_tty(stdin, p.tty)
    fg, terminal = user_stdio(
        p.tty,
        stdin,
        keys,
        lambda rec: container_ctl(engine, rec.id),
        out="stdout" in streams,
        err="stderr" in streams,
    )

    def proxy(rec: ContainerRecord) -> None:
        if p.sig_proxy and not p.tty:  # Docker: no proxy in TTY mode (keys are bytes there)
            proxy_signals(engine, rec)

    sys.stdout.flush()
    with terminal:
        try:
            return run_attached(engine, req, progress, fg, on_started=proxy, binds_from_v=from_v)
        except Interrupted as exc:
            return 128 + exc.signum
