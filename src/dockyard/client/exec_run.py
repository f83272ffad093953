"""``Container.exec_run``: docker-py's answer, ``ExecResult(exit_code, output)``, in-process.

The process runs as ``dockyard exec`` runs it (engine/exec.py: a session
under its own monitor). Without ``stream`` the output is gathered until the
process ends: bytes in the order they came, or with ``demux`` a tuple
(stdout, stderr), each None when the stream said nothing; ``stream`` gives
a generator of the same pieces and no exit code (docker-py's). ``stdin``
gives the process an open stdin that ends at once (there is nothing here
to send: a ``cat`` reads end-of-file rather than waiting forever). A
command that cannot start is not an exception, as with Docker: its exit
code is 126 (Docker's exec says 126 whatever the reason, not found included) and the
runtime's message is the output.
"""

from __future__ import annotations

from collections import namedtuple

from dockyard import errors as engine_errors
from dockyard.client.errors import InvalidArgument, translate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from dockyard.engine.engine import Engine
    from dockyard.engine.exec import ExecSession

ExecResult = namedtuple("ExecResult", "exit_code,output")


def exec_run(
    engine: Engine,
    container_id: str,
    cmd: str | list[str],
    stdout: bool = True,
    stderr: bool = True,
    stdin: bool = False,
    tty: bool = False,
    privileged: bool = False,
    user: str = "",
    detach: bool = False,
    stream: bool = False,
    socket: bool = False,
    environment: dict[str, str] | list[str] | None = None,
    workdir: str | None = None,
    demux: bool = False,
) -> ExecResult:
    import shlex

    from dockyard.engine.exec import ExecFailed, ExecRequest, start_exec

    if socket:
        raise InvalidArgument("exec_run(socket=True) is not supported: use stream=True")
    if isinstance(environment, dict):
        env = [f"{k}={v}" for k, v in environment.items()]
    else:
        env = list(environment or [])
    req = ExecRequest(
        cmd=shlex.split(cmd) if isinstance(cmd, str) else list(cmd),
        tty=tty,
        stdin=stdin and not detach,
        detach=detach,
        env=env,
        user=user,
        workdir=workdir or "",
        privileged=privileged,
    )
    try:
        session = start_exec(engine, container_id, req)
    except ExecFailed as exc:
        return ExecResult(126, f"{exc}\n".encode())
    except engine_errors.DockyardError as exc:
        raise translate(exc) from exc
    if detach:
        session.close()
        return ExecResult(None, b"")
    if req.stdin:
        from dockyard.engine.attach import half_close

        half_close(session.sock)
    from dockyard.client.attach import shaped

    output = shaped(_frames(session, stdout, stderr), stream, demux)
    return ExecResult(None if stream else session.exit_code(), output)


def _frames(session: ExecSession, stdout: bool, stderr: bool) -> Iterator[tuple[int, bytes]]:
    """The streams asked for, as they come; the session is closed at their end."""
    from dockyard.engine.attach import STDERR, read_frames

    try:
        for stream, data in read_frames(session.sock, session.tty):
            if stderr if stream == STDERR else stdout:
                yield stream, data
    finally:
        session.close()
