"""``system check`` for exec sessions: the directories under ``<run root>/exec/``.

A session's directory is removed by its foreground client once it has read
the exit status, else by its monitor's exit command when the process ends
(engine/exec.py). Neither happens when the client is killed after the exit
command has left the removal to it, when a client is killed before its
monitor started, when a monitor is killed (the OOM killer, a ``kill -9``),
or when a removal is cut short (a ``.gone`` directory). What is left then
is nobody's: a directory whose fg.lock nobody holds and that no live
monitor names.

A session is made with its fg.lock held, under a shared flock of the exec
root (`exec.claim_dir`); the check lists the sessions under that flock
taken exclusively, so a session being made is never seen without its lock.
"""

from __future__ import annotations

import posix

from dockyard.engine.leftovers import foreground_held, monitors_naming

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine

GONE = ".gone"  # a removal renames the directory to this first (exec.remove_dir)


def exec_root(engine: Engine) -> str:
    return f"{engine.paths.run_root}/exec"


def live_monitors(engine: Engine) -> dict[str, int]:
    """Live monitors of exec sessions under this run root: exec id -> pid (by their
    command lines: ``dockyard-monitor --id ID ... <run root>/exec/ID/...``)."""
    return monitors_naming(f"{exec_root(engine)}/")


def abandoned(engine: Engine) -> list[str]:
    """Names of the session directories nobody holds: no client, no live monitor."""
    import fcntl

    root = exec_root(engine)
    try:
        guard = posix.open(root, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    except FileNotFoundError:
        return []
    try:
        # held shared only from a session's mkdir to its fg.lock: a short wait
        fcntl.flock(guard, fcntl.LOCK_EX)
        names = sorted(posix.listdir(root))
        # the locks first, the monitors after: `exec -d` lets go of fg.lock only once
        # its monitor lives, so a session unheld here has its monitor in the scan below
        # (or it has ended, and its exit command removes it as we do)
        unheld = [n for n in names if n.endswith(GONE) or not foreground_held(f"{root}/{n}")]
        monitors = live_monitors(engine)
        return [n for n in unheld if n.endswith(GONE) or n not in monitors]
    finally:
        posix.close(guard)


def describe(engine: Engine, name: str) -> str:
    from dockyard.engine.exec import read_exit_file

    if name.endswith(GONE):
        return f"exec session {name[:12]}: its removal was cut short"
    code = read_exit_file(f"{exec_root(engine)}/{name}")
    how = "its process never started or its monitor was killed"
    if code is not None:
        how = f"its process exited ({code}) but nobody removed it"
    return f"exec session {name[:12]} has no monitor and no client: {how}"


def remove(engine: Engine, name: str) -> str:
    from dockyard.engine.volumes import remove_tree

    remove_tree(f"{exec_root(engine)}/{name}")
    return f"exec session {name[:12]}: removed its directory"
