"""exec ID [-p process.json | COMMAND ARGS...]: run a process in the container."""

from __future__ import annotations

from dockyard.cli.runtime_args import flag, parse
from dockyard.errors import InvalidArgument
from dockyard.runtime.exec import ExecOptions, exec_process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.cli.runtime_main import Context

FLAGS = [
    flag("--process", "-p", value=True),
    flag("--tty", "-t"),
    flag("--console-socket", value=True),
    flag("--detach", "-d"),
    flag("--pid-file", value=True),
    flag("--preserve-fds", value=True, default="0"),
    flag("--env", "-e", value=True, default=[]),
    flag("--cwd", value=True),
    flag("--user", "-u", value=True),
    flag("--additional-gids", "-g", value=True, default=[]),
    flag("--cap", "-c", value=True, default=[]),
    flag("--no-new-privs"),
    flag("--process-label", value=True),
    flag("--apparmor", value=True),
    flag("--cgroup", value=True),
]


def run(ctx: Context, argv: list[str]) -> int:
    # Everything after the container id belongs to the command, flags included.
    parsed = parse(argv, FLAGS, stop_at_positional=True, command="exec")
    if not parsed.args:
        raise InvalidArgument('"exec" requires a container id')
    opts = ExecOptions()
    opts.process_path = str(parsed.process)
    opts.args = parsed.args[1:]
    if opts.process_path and opts.args:
        raise InvalidArgument("exec takes either -p process.json or a command, not both")
    opts.tty = bool(parsed.tty)
    opts.console_socket = str(parsed.console_socket)
    opts.detach = bool(parsed.detach)
    opts.pid_file = str(parsed.pid_file)
    if not str(parsed.preserve_fds).isdigit():
        raise InvalidArgument(f"--preserve-fds: {parsed.preserve_fds!r} is not a number")
    opts.preserve_fds = int(str(parsed.preserve_fds))
    opts.env = list(parsed.env)  # type: ignore[call-overload]
    opts.cwd = str(parsed.cwd)
    opts.user = str(parsed.user)
    try:
        opts.additional_gids = [int(g) for g in parsed.additional_gids]  # type: ignore[attr-defined]
    except ValueError:
        raise InvalidArgument("--additional-gids takes numbers") from None
    opts.caps = list(parsed.cap)  # type: ignore[call-overload]
    opts.no_new_privs = bool(parsed.no_new_privs)
    if parsed.cgroup:
        raise InvalidArgument("exec --cgroup is not supported yet")
    return exec_process(ctx.root, parsed.args[0], opts)
