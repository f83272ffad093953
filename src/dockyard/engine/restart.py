"""Restart policies at work, with no daemon: who decides, who waits, who starts.

- Decides: whoever handles the container's exit (`exits.cleanup`, under
  the container lock): usually the monitor's exit command, ``dockyard
  container cleanup``, else a foreground ``run``, ``stop`` or any command
  that finds an exit nobody handled. `after_exit` applies Docker's rules
  (`restart_policy.decide`) to the record and, for a restart, marks it
  ``restarting`` with ``RestartCount`` one higher.
- Waits: the backoff is a ``dockyard-monitor --delay-ms`` process (a
  sleeping C process, ~0.1 MiB), never a Python one; its pid is kept in the
  record so that ``stop``, ``kill`` and ``rm -f`` can cancel it.
- Starts: when the delay is over it runs ``dockyard container autorestart
  ID TOKEN``, which starts the container under a new monitor if it is still
  ``restarting`` with that token (a stop, or a newer exit, changes both),
  as Docker's daemon starts it: same id, same log file, ``RestartCount``
  kept. A restart that cannot start leaves the container exited with the
  error, as Docker's does.

``stop`` is final (Docker's HasBeenManuallyStopped, remembered so that
``unless-stopped`` stays stopped after a reboot); ``kill`` with SIGKILL or
the stop signal cancels the next restart only (Docker's ExitOnNext); a
manual ``start`` resets the count and the backoff.
"""

from __future__ import annotations

import posix

from dockyard.engine import restart_policy
from dockyard.engine.clock import parse_ns
from dockyard.engine.status import Status

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.engine import Engine
    from dockyard.engine.types import ContainerRecord

SIGTERM = 15


def after_exit(engine: Engine, rec: ContainerRecord) -> bool:
    """Decide, for an exit just recorded in ``rec`` (exited): True if it was scheduled
    to restart (``rec`` is then ``restarting``; the caller writes it back)."""
    state = rec.state
    canceled = state.restart_canceled
    state.restart_canceled = False
    if canceled or rec.host.auto_remove or restart_policy.is_none(rec.host.restart_policy):
        return False
    ran = parse_ns(state.finished_at) - parse_ns(state.started_at)
    again, delay = restart_policy.decide(
        rec.host.restart_policy,
        state.exit_code,
        state.manually_stopped,
        state.restart_count,
        ran,
        state.restart_delay_ms,
    )
    if not again:
        return False
    token = posix.urandom(8).hex()
    try:
        waiter = _spawn_waiter(engine, rec.id, token, delay)
    except Exception as exc:
        state.error = state.error or f"cannot schedule the restart: {exc}"
        return False
    rec.status = Status.RESTARTING
    state.restart_count += 1
    state.restart_delay_ms = delay
    state.restart_token = token
    state.restart_waiter_pid = waiter
    return True


def _spawn_waiter(engine: Engine, container_id: str, token: str, delay_ms: int) -> int:
    """A ``dockyard-monitor --delay-ms`` that runs ``container autorestart`` later; its pid."""
    from dockyard.engine.launch import _read_sync, dockyard_command
    from dockyard.engine.monitor import binary

    monitor = binary()
    argv = [
        monitor,
        "--sync-fd",
        "3",
        "--delay-ms",
        str(delay_ms),
        "--",
        *dockyard_command(),
        "--root",
        engine.paths.root,
        "--run-root",
        engine.paths.run_root,
        "container",
        "autorestart",
        container_id,
        token,
    ]
    sync_r, sync_w = posix.pipe()
    try:
        child = posix.posix_spawn(
            monitor, argv, posix.environ, file_actions=[(posix.POSIX_SPAWN_DUP2, sync_w, 3)]
        )
    finally:
        posix.close(sync_w)
    posix.waitpid(child, 0)  # it forks the waiter and exits at once
    return int(str(_read_sync(sync_r).get("pid", 0)))


def cancel(engine: Engine, rec: ContainerRecord) -> None:
    """Stop a pending restart: the waiter killed, the record exited (the caller writes it)."""
    pid = rec.state.restart_waiter_pid
    if pid and rec.state.restart_token and _is_waiter(pid, rec.state.restart_token):
        try:
            posix.kill(pid, SIGTERM)
        except ProcessLookupError:
            pass
    rec.state.restart_waiter_pid = 0
    rec.state.restart_token = ""
    if rec.status == Status.RESTARTING:
        rec.status = Status.EXITED


def _is_waiter(pid: int, token: str) -> bool:
    """The process still is the one we spawned (its command line carries the token)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return token.encode() in f.read().split(b"\0")
    except OSError:
        return False


def waiter_alive(rec: ContainerRecord) -> bool:
    return bool(rec.state.restart_waiter_pid) and _is_waiter(
        rec.state.restart_waiter_pid, rec.state.restart_token
    )


def reset_for_manual_start(rec: ContainerRecord) -> None:
    """A user's start (Docker's ResetRestartManager(true)): count, backoff, stop forgotten."""
    rec.state.restart_count = 0
    rec.state.restart_delay_ms = 0
    rec.state.manually_stopped = False
    rec.state.restart_canceled = False


def autorestart(engine: Engine, container_id: str, token: str) -> None:
    """The waiter's command: start the container if its restart is still the one scheduled."""
    from dockyard.engine.lifecycle import _start_locked
    from dockyard.errors import NotFound

    try:
        rec = engine.containers.get(container_id)
    except NotFound:
        return
    with engine.lock(rec.id):
        try:
            rec = engine.containers.get(rec.id)
        except NotFound:
            return
        if rec.status != Status.RESTARTING or rec.state.restart_token != token:
            return
        rec.state.restart_token = ""
        rec.state.restart_waiter_pid = 0
        try:
            _start_locked(engine, rec, None, manual=False)
        except Exception:
            # start recorded its error; Docker leaves a container that could not
            # restart stopped, and tries no more
            try:
                failed = engine.containers.get(rec.id)
            except NotFound:
                return
            if failed.status == Status.RESTARTING:
                failed.status = Status.EXITED
                engine.containers.update(failed)
