"""Execute a command in a running container."""

from __future__ import annotations

import sys

from dockyard.cli.flags import LIST, VALUE, Flag

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.docker_main import Context
    from dockyard.cli.flags import Parsed
    from dockyard.errors import DockyardError

SYNOPSIS = "[OPTIONS] CONTAINER COMMAND [ARG...]"
INTERSPERSED = False  # flags end at the container: the rest is the command
ERROR_PREFIX = "Error response from daemon: "
FLAGS = [
    Flag("detach", "d", help="Detached mode: run command in the background"),
    Flag("detach-keys", kind=VALUE, help="Override the key sequence for detaching a container"),
    Flag("env", "e", LIST, help="Set environment variables"),
    Flag("env-file", kind=LIST, help="Read in a file of environment variables"),
    Flag("interactive", "i", help="Keep STDIN open even if not attached"),
    Flag("privileged", help="Give extended privileges to the command"),
    Flag("tty", "t", help="Allocate a pseudo-TTY"),
    Flag("user", "u", VALUE, help='Username or UID (format: "<name|uid>[:<group|gid>]")'),
    Flag("workdir", "w", VALUE, help="Working directory inside the container"),
]


def exit_code_for(exc: DockyardError) -> int:
    return 1  # Docker's exec: a refusal is status 1 (126 is the process's, below)


def run(p: Parsed, ctx: Context) -> int:
    from dockyard.cli.commands._terminal import Interrupted, check_tty, user_stdio, window_size
    from dockyard.engine.attach import parse_detach_keys
    from dockyard.engine.exec import ExecFailed, ExecRequest, run_exec, start_exec
    from dockyard.engine.names import new_id
    from dockyard.errors import InvalidArgument

    if len(p.args) < 2:
        raise InvalidArgument('"exec" requires at least 2 arguments')
    keys = parse_detach_keys(str(p.detach_keys))
    stdin = bool(p.interactive) and not p.detach
    if not p.detach:
        check_tty(stdin, p.tty)
    req = ExecRequest(
        cmd=list(p.args[1:]),
        tty=bool(p.tty),
        stdin=stdin,
        detach=bool(p.detach),
        env=_env(list(p.env_file), list(p.env)),
        user=str(p.user),
        workdir=str(p.workdir),
        privileged=bool(p.privileged),
        console_size=window_size() if p.tty else None,
        id=new_id(),
    )
    engine = ctx.engine()
    ctl = f"{engine.paths.exec_dir(req.id)}/ctl"
    try:
        if p.detach:
            start_exec(engine, p.args[0], req).close()
            return 0
        fg, terminal = user_stdio(bool(p.tty), stdin, keys, lambda rec: ctl)
        with terminal:
            code = run_exec(engine, p.args[0], req, fg)
    except ExecFailed as exc:
        sys.stderr.write(f"OCI runtime exec failed: {exc}\n")
        return 126  # Docker's exec: 126 whatever kept the process from starting
    except Interrupted as exc:
        return 128 + exc.signum
    if code is None:
        sys.stderr.write("read escape sequence\n")  # Docker's word for a detach, and its status
        return 1
    return code


def _env(files: list[str], items: list[str]) -> list[str]:
    """-e and --env-file as run takes them (KEY alone takes our own value)."""
    import posix

    from dockyard.engine import parse as values

    if not files and not items:
        return []
    environ = {
        k.decode(errors="surrogateescape"): v.decode(errors="surrogateescape")
        for k, v in posix.environ.items()
    }
    env: list[str] = []
    for path in files:
        env += values.read_env_file(path, environ)
    return env + values.env_items(items, environ)
