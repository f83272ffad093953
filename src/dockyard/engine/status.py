"""A container's status as Docker names it, and the moves between statuses.

Plain string constants rather than an ``enum`` (10 ms to import, on every
command): ``Status.RUNNING`` reads the same and the table below is the whole
machine. Every verb starts with `require`, which refuses a status the verb
cannot act on with a `Conflict` that says what to do instead (runc's
``canStart``, youki's ``can_kill``).
"""

from __future__ import annotations

from dockyard.errors import Conflict


class Status:
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    ALL = (CREATED, RUNNING, PAUSED, RESTARTING, REMOVING, EXITED, DEAD)


S = Status

#: status -> the statuses it may move to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.CREATED: (S.RUNNING, S.EXITED, S.REMOVING, S.DEAD),
    S.RUNNING: (S.EXITED, S.PAUSED, S.RESTARTING, S.REMOVING, S.DEAD),
    S.PAUSED: (S.RUNNING, S.EXITED, S.REMOVING, S.DEAD),
    S.RESTARTING: (S.RUNNING, S.EXITED, S.REMOVING, S.DEAD),
    S.EXITED: (S.RUNNING, S.RESTARTING, S.REMOVING, S.DEAD),
    S.REMOVING: (S.DEAD,),
    S.DEAD: (S.REMOVING,),
}

#: verb -> the statuses it acts on
ALLOWED: dict[str, tuple[str, ...]] = {
    "start": (S.CREATED, S.EXITED),
    "kill": (S.RUNNING, S.PAUSED, S.RESTARTING),
    "pause": (S.RUNNING,),
    "unpause": (S.PAUSED,),
    "remove": (S.CREATED, S.EXITED, S.DEAD),
    "remove -f": (S.CREATED, S.RUNNING, S.PAUSED, S.RESTARTING, S.EXITED, S.DEAD),
    "attach": (S.RUNNING, S.PAUSED, S.RESTARTING),
}


def _refusal(verb: str, name: str, status: str) -> str:
    """Docker's daemon's words: ``name`` is the container's name for remove (quoted with its
    slash), its full id for the others ("Container <id> is not running")."""
    if verb == "remove" and status in (S.RUNNING, S.PAUSED, S.RESTARTING):
        return (
            f'cannot remove container "/{name}": container is {status}: '
            "stop the container before removing or force remove"
        )
    if status == S.REMOVING:
        return f"container {name} is already being removed"
    if verb in ("kill", "attach", "pause") and status in (S.CREATED, S.EXITED, S.DEAD):
        return f"Container {name} is not running"
    if verb == "pause" and status == S.PAUSED:
        return f"Container {name} is already paused"
    if verb == "unpause":
        return f"Container {name} is not paused"
    if verb == "start":
        return f"cannot start container {name}: it is {status}"
    return f"container {name} is {status}: cannot {verb} it"


def require(verb: str, name: str, status: str) -> None:
    """Refuse ``verb`` on a container in ``status``, saying why and what to do."""
    if status not in ALLOWED[verb]:
        raise Conflict(_refusal(verb, name, status))


def can_move(old: str, new: str) -> bool:
    return new == old or new in TRANSITIONS.get(old, ())


def check_move(name: str, old: str, new: str) -> None:
    if not can_move(old, new):
        raise Conflict(f"container {name}: cannot go from {old} to {new}")
