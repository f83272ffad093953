"""Layer work in forked worker processes, so that a pull uses every core.

Unpacking a layer is mostly Python (tar headers, one file at a time), and
threads share one interpreter lock: two threads unpack little faster than
one. `run_forked` runs each task in a child made with fork(2), up to
``jobs`` at a time; the child inherits everything the task needs (the
store operation, the source, its credentials) and sends back, through a
pipe, its progress and then its result or its error. The parent only
relays progress and waits.

Rules that keep this safe:
- the parent has no other threads when it forks (the copy pipeline makes
  none), and children never return into the parent's code: they leave with
  ``os._exit``, so no ``finally`` of the parent (removing the operation's
  temp dir, say) runs twice;
- a child dies with its parent (PR_SET_PDEATHSIG): a killed pull leaves no
  worker holding the operation's lock, and the next command cleans up;
- HTTP clients drop their connections in a child (http.py, at fork), so no
  socket is shared;
- a child's error comes back as the same `DockyardError` kind (or, for a
  bug, with the child's traceback); when one task fails, the others are
  killed and the error is raised.
"""

from __future__ import annotations

import gc
import marshal
import os
import select
import signal
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.errors import DockyardError, HostError
from dockyard.linux import libc

from .progress import Progress

_HEADER = struct.Struct("<I")


class _Relay(Progress):
    """Progress in a child: every call goes to the parent through the pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def start(self, key: str, status: str, total: int = 0) -> None:
        _send(self.fd, ("start", (key, status, total)))

    def advance(self, key: str, amount: int) -> None:
        _send(self.fd, ("advance", (key, amount)))

    def status(self, key: str, status: str) -> None:
        _send(self.fd, ("status", (key, status)))


def _send(fd: int, message: tuple[str, Any]) -> None:
    """One message: plain values (marshal, no import to pay for); errors go pickled."""
    data = marshal.dumps(message)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _portable(exc: BaseException) -> tuple[str, Any]:
    """What the parent can rebuild of ``exc``: the error itself, its kind, or a traceback."""
    import pickle

    if isinstance(exc, DockyardError):  # pickles as itself (DockyardError.__reduce__)
        try:
            return ("error", pickle.dumps(exc))
        except Exception:  # an attribute that cannot travel: keep the message
            return ("error", pickle.dumps(HostError(str(exc))))
    import traceback

    text = "".join(traceback.format_exception(exc))
    return ("crash", f"{type(exc).__name__}: {exc}\n{text}")


def _child(
    task: Callable[[Progress], Any], fd: int, parent: int, relay: bool, others: list[int]
) -> None:
    code = 0
    try:
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)
        for other in others:  # the parent's ends of the other workers' pipes
            os.close(other)
        gc.disable()  # short-lived, few cycles: the collector would only rescan the heap
        result = task(_Relay(fd) if relay else Progress())
        _send(fd, ("result", result))
    except BaseException as exc:
        code = 1
        try:
            _send(fd, _portable(exc))
        except BaseException:
            pass
    finally:
        os._exit(code)


@dataclass
class _Worker:
    pid: int
    index: int
    fd: int
    buffer: bytearray = field(default_factory=bytearray)
    outcome: tuple[str, Any] | None = None


def run_forked(
    tasks: Sequence[Callable[[Progress], Any]],
    jobs: int,
    progress: Progress,
    order: list[int] | None = None,
) -> list[Any]:
    """Each task's result, by index; the first error raised once the others are stopped.

    Results are plain values (what ``marshal`` takes: strings, numbers, tuples).
    Tasks start in ``order`` (indexes; the biggest first keeps the cores busy to the end).
    """
    results: list[Any] = [None] * len(tasks)
    waiting = list(order if order is not None else range(len(tasks)))
    running: dict[int, _Worker] = {}
    relay = type(progress) is not Progress  # a quiet pull needs no progress messages
    try:
        while waiting or running:
            while waiting and len(running) < max(jobs, 1):
                index = waiting.pop(0)
                read_fd, write_fd = os.pipe()
                parent = os.getpid()
                pid = os.fork()
                if pid == 0:
                    os.close(read_fd)
                    _child(tasks[index], write_fd, parent, relay, list(running))
                os.close(write_fd)
                running[read_fd] = _Worker(pid, index, read_fd)
            ready, _, _ = select.select(list(running), [], [])
            for fd in ready:
                worker = running[fd]
                data = os.read(fd, 1 << 16)
                if data:
                    worker.buffer += data
                    _dispatch(worker, progress)
                    continue
                del running[fd]
                os.close(fd)
                _, status = os.waitpid(worker.pid, 0)
                results[worker.index] = _outcome(worker, status)
    except BaseException:
        for worker in running.values():
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for worker in running.values():
            os.waitpid(worker.pid, 0)
            os.close(worker.fd)
        raise
    return results


def _dispatch(worker: _Worker, progress: Progress) -> None:
    """Act on every complete message in the worker's buffer."""
    buf = worker.buffer
    while len(buf) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buf)
        if len(buf) < _HEADER.size + size:
            return
        kind, payload = marshal.loads(bytes(buf[_HEADER.size : _HEADER.size + size]))
        del buf[: _HEADER.size + size]
        if kind == "start":
            progress.start(*payload)
        elif kind == "advance":
            progress.advance(*payload)
        elif kind == "status":
            progress.status(*payload)
        else:
            worker.outcome = (kind, payload)


def _outcome(worker: _Worker, status: int) -> Any:
    if worker.outcome is None:
        how = (
            f"was killed by signal {os.WTERMSIG(status)}"
            if os.WIFSIGNALED(status)
            else f"exited {os.waitstatus_to_exitcode(status)} without a result"
        )
        raise HostError(f"the worker for layer {worker.index + 1} {how}")
    kind, payload = worker.outcome
    if kind == "result":
        return payload
    if kind == "error":
        import pickle

        raise pickle.loads(payload)
    raise RuntimeError(f"the worker for layer {worker.index + 1} failed: {payload}")
