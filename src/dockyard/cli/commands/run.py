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
__all__ = ["FLAGS", "INTERSPERSED", "SYNOPSIS", "exit_code_for", "run"]

#: what a foreground run passes on to the container (Docker's --sig-proxy)
PROXIED = (1, 2, 3, 10, 12, 14, 15, 28)


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.attach import write_all
    from dockyard.engine.run import Foreground, run_attached, run_detached

    req, from_v = request_from(p)
    engine = ctx.engine()
    progress = open("/dev/null", "w") if p.quiet else sys.stderr  # noqa: SIM115
    if p.detach:
        rec = run_detached(engine, req, progress, from_v)
        sys.stdout.write(rec.id + "\n")
        return 0
    fg = Foreground(
        out=lambda data: write_all(1, data),
        err=lambda data: write_all(2, data),
        stdin_fd=0 if p.interactive else None,
    )

    def proxy(rec: ContainerRecord) -> None:
        if p.sig_proxy:
            _proxy_signals(engine, rec)

    sys.stdout.flush()
    return run_attached(engine, req, progress, fg, on_started=proxy, binds_from_v=from_v)


def _proxy_signals(engine: object, rec: ContainerRecord) -> None:
    import _signal  # type: ignore[import-not-found]

    runtime = engine.runtime_for(rec.host.runtime)  # type: ignore[attr-defined]

    def forward(signum: int, frame: object) -> None:
        try:
            runtime.kill(rec.id, signum)
        except Exception:
            pass

    for signum in PROXIED:
        _signal.signal(signum, forward)
