"""``top``: a container's processes as the host's ``ps`` shows them (``-ef`` by default).

Docker's way: the runtime names the container's processes (its ``ps
--format json``, the pids in the container's cgroup), the host's ``ps``
runs with the user's options, and only the rows whose PID column is one of
them are kept. ``ps -q PIDS`` asks ps for just those rows; some options
(``f``, forest mode) refuse ``-q``, and then ps runs without it and the
rows are filtered here alone. Each row is split on whitespace into as many
fields as the header has titles, the last one (the command) keeping the rest.
"""

from __future__ import annotations

from dockyard.engine.exits import current_status
from dockyard.engine.record import record
from dockyard.engine.status import Status
from dockyard.errors import Conflict, HostError, InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine


@record
class ProcessList:
    """Docker's ``ContainerTopOKBody``: the header's titles and one row of fields per process."""

    titles: list[str]
    processes: list[list[str]]


def top(engine: Engine, name: str, ps_args: list[str] | None = None) -> ProcessList:
    rec = engine.containers.find(name)
    status = current_status(engine, rec)
    if status == Status.RESTARTING:
        raise Conflict(f"Container {rec.id} is restarting, wait until the container is running")
    if status not in (Status.RUNNING, Status.PAUSED):
        raise Conflict(f"Container {rec.id} is not running")
    try:
        pids = engine.runtime_for(rec.host.runtime).pids(rec.id)
    except (Conflict, HostError) as exc:
        raise Conflict(f"Container {rec.id} is not running: {exc}") from exc
    args = [a for a in (ps_args or ["-ef"]) if a] or ["-ef"]
    found = parse_ps(run_ps(args, pids), pids)
    from dockyard.engine.events import container_event

    container_event(engine, rec, "top")
    return found


def run_ps(args: list[str], pids: list[int]) -> str:
    import subprocess

    def ps(extra: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["ps", *args, *extra], capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            raise HostError(f"Error running ps: {exc.strerror}") from exc

    done = ps(["-q", ",".join(str(p) for p in pids)] if pids else [])
    if done.returncode != 0 and pids:
        done = ps([])  # options -q cannot go with: filter every row instead
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()
        raise InvalidArgument(f"Error running ps: {message[0] if message else 'it failed'}")
    return done.stdout


def parse_ps(output: str, pids: list[int]) -> ProcessList:
    lines = output.splitlines()
    titles = lines[0].split() if lines else []
    if "PID" not in titles:
        raise InvalidArgument("Couldn't find PID field in ps output")
    column = titles.index("PID")
    wanted = set(pids)
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        text = fields[column] if column < len(fields) else ""
        if not text.isdigit():
            raise InvalidArgument(f"Unexpected pid {text!r} in ps output")
        pid = int(text)
        if pid in wanted:
            last = len(titles) - 1
            rows.append([*fields[:last], " ".join(fields[last:])])
    return ProcessList(titles, rows)
