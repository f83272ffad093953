"""Update configuration of one or more containers."""

from __future__ import annotations

import sys

from dockyard.cli.commands._each import for_each
from dockyard.cli.flags import VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.engine.update import Resources

SYNOPSIS = "[OPTIONS] CONTAINER [CONTAINER...]"
FLAGS = [
    Flag("cpu-shares", "c", VALUE, help="CPU shares (relative weight)"),
    Flag("cpus", kind=VALUE, help="Number of CPUs"),
    Flag("cpuset-cpus", kind=VALUE, help="CPUs in which to allow execution (0-3, 0,1)"),
    Flag("memory", "m", VALUE, help="Memory limit"),
    Flag("memory-reservation", kind=VALUE, help="Memory soft limit"),
    Flag("memory-swap", kind=VALUE, help="Swap limit equal to memory plus swap: -1 unlimited"),
    Flag("pids-limit", kind=VALUE, help="Tune container pids limit (set -1 for unlimited)"),
    Flag("restart", kind=VALUE, help="Restart policy to apply when a container exits"),
]


def resources(p: Parsed) -> Resources:
    """The flags given, as the engine's request (an absent flag changes nothing)."""
    from dockyard.engine import parse
    from dockyard.engine.update import Resources

    given = p.given
    out = Resources()
    if "memory" in given:
        out.memory = parse.parse_bytes(str(p.memory), "--memory")
    if "memory_swap" in given:
        out.memory_swap = parse.parse_memory_swap(str(p.memory_swap))
    if "memory_reservation" in given:
        out.memory_reservation = parse.parse_bytes(
            str(p.memory_reservation), "--memory-reservation"
        )
    if "cpus" in given:
        out.nano_cpus = parse.parse_cpus(str(p.cpus))
    if "cpu_shares" in given:
        out.cpu_shares = parse.parse_int(str(p.cpu_shares), "--cpu-shares")
    if "cpuset_cpus" in given:
        out.cpuset_cpus = str(p.cpuset_cpus)
    if "pids_limit" in given:
        out.pids_limit = parse.parse_int(str(p.pids_limit), "--pids-limit")
    if "restart" in given:
        from dockyard.engine import restart_policy

        out.restart_policy = restart_policy.parse(str(p.restart))
    return out


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.engine.update import update
    from dockyard.errors import InvalidArgument

    if not p.args:
        raise InvalidArgument('"update" requires at least 1 argument')
    wanted = resources(p)
    if wanted.empty():
        sys.stderr.write("you must provide one or more flags when using this command\n")
        return 1
    engine = ctx.engine()

    def act(name: str) -> str:
        update(engine, name, wanted)
        return name

    return for_each("update", p.args, act)
