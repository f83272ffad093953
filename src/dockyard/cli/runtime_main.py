"""``dockyard-runtime``: an OCI runtime whose command line is runc's.

The global flags are parsed here; each command lives in ``cli/runtime/<verb>.py``
and is imported only when used, so ``run`` loads nothing it does not need.
"""

from __future__ import annotations

import gc
import posix
import sys

from dockyard.cli.runtime_args import HelpRequested, flag, parse
from dockyard.errors import DockyardError

COMMANDS = (
    "create",
    "start",
    "run",
    "state",
    "kill",
    "delete",
    "list",
    "spec",
    "features",
    "exec",
    "pause",
    "resume",
    "ps",
    "events",
    "update",
)
GLOBAL_FLAGS = [
    flag("--root", value=True),
    flag("--log", value=True),
    flag("--log-format", value=True, default="text"),
    flag("--debug"),
    flag("--systemd-cgroup"),
    flag("--rootless", value=True, default="auto"),
    flag("--criu", value=True),
    flag("--help", "-h"),
    flag("--version", "-v"),
]

USAGE = """usage: dockyard-runtime [global options] command [command options] [arguments...]

An OCI runtime with runc's command line.

commands:
  create    create a container          start     start a created container
  run       create and start            state     print a container's state
  kill      signal a container          delete    delete a container
  list      list containers             spec      write a starter config.json
  features  print what is supported     exec      run a process in a container
  pause     freeze a container          resume    thaw a paused container
  ps        list its processes          events    stats and OOM events
  update    change a container's limits
  help      help on a command (or: COMMAND --help)

global options:
  --root DIR              state directory (default /run/dockyard-runtime;
                          rootless: $XDG_RUNTIME_DIR/dockyard-runtime)
  --log FILE              write log lines to FILE (default: stderr)
  --log-format text|json  log line format (default text)
  --debug                 log more
  --rootless auto|true|false
                          without real root, a cgroup the host refuses is
                          done without (auto: when not uid 0 of the host)
  --systemd-cgroup        manage cgroups through systemd (not supported)
"""


class Context:
    """What every command gets: the state root and a way to log."""

    def __init__(
        self, root: str, log_path: str, log_format: str, debug: bool, rootless: bool = False
    ) -> None:
        self.root = root
        self.log_path = log_path
        self.log_format = log_format
        self.debug = debug
        #: no real root (not uid 0, or in a user namespace): cgroups are optional
        self.rootless = rootless

    def log(self, level: str, message: str) -> None:
        from dockyard.cli.runtime_log import format_line

        line = format_line(self.log_format if self.log_path else "text", level, message)
        if self.log_path:
            try:
                fd = posix.open(
                    self.log_path,
                    posix.O_WRONLY | posix.O_APPEND | posix.O_CREAT | posix.O_CLOEXEC,
                    0o644,
                )
                try:
                    posix.write(fd, line.encode())
                finally:
                    posix.close(fd)
            except OSError:
                sys.stderr.write(line)
        else:
            sys.stderr.write(line)

    def warn(self, message: str) -> None:
        self.log("warning", message)

    def error(self, message: str) -> None:
        self.log("error", message)
        if self.log_path:
            sys.stderr.write(message + "\n")


def main() -> None:
    """The console entry point: run, flush, and leave without interpreter teardown.

    Finalisation (module and object teardown) costs ~4 ms and frees nothing
    the kernel would not; a runtime is called for every container start.
    For the same reason the cycle collector waits for 100,000 new objects,
    not 700: a command makes far fewer, and each collection would cost time
    and copy-on-write faults in the processes ``create`` forks; a long ``run``
    or ``events`` still collects.
    """
    gc.set_threshold(100_000)
    code = run_cli(sys.argv[1:])
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 1
    posix._exit(code)


def rootless_mode(value: str) -> bool:
    """--rootless auto|true|false, as runc takes it (auto: look at our ids)."""
    if value == "auto":
        from dockyard.linux.proc import rootless

        return rootless()
    if value in ("true", "false"):
        return value == "true"
    raise DockyardError(f"--rootless {value!r}: expected auto, true or false")


def default_root(rootless: bool) -> str:
    """/run/dockyard-runtime; rootless, $XDG_RUNTIME_DIR/dockyard-runtime (runc's rule)."""
    xdg = posix.environ.get(b"XDG_RUNTIME_DIR", b"").decode(errors="surrogateescape")
    return f"{xdg}/dockyard-runtime" if rootless and xdg else "/run/dockyard-runtime"


def run_cli(argv: list[str]) -> int:
    ctx = Context("/run/dockyard-runtime", "", "text", False)
    try:
        opts = parse(argv, GLOBAL_FLAGS, stop_at_positional=True)
        rootless = rootless_mode(str(opts.rootless))
        root = str(opts.root) or default_root(rootless)
        ctx = Context(root, str(opts.log), str(opts.log_format), bool(opts.debug), rootless)
        if opts.log_format not in ("text", "json"):
            raise DockyardError(f"unknown log format {opts.log_format!r} (text or json)")
        if opts.version:
            from dockyard import OCI_VERSION, __version__

            if ctx.debug:  # is this install's start the fast one?
                from dockyard.cli.launcher import report

                ctx.log("debug", report())
            print(f"dockyard-runtime version {__version__}\nspec: {OCI_VERSION}")
            return 0
        if opts.help or not opts.args:
            sys.stdout.write(USAGE)
            return 0 if opts.help else 1
        if opts.systemd_cgroup:
            from dockyard.errors import Unsupported

            raise Unsupported("--systemd-cgroup is not supported yet; use the cgroupfs driver")
        command, rest = opts.args[0], opts.args[1:]
        if command == "help":  # help COMMAND: as COMMAND --help
            if not rest:
                sys.stdout.write(USAGE)
                return 0
            command, rest = rest[0], ["--help"]
            if command not in COMMANDS:
                raise DockyardError(f"no help for {command!r}: not a command")
        if command not in COMMANDS:
            raise DockyardError(f"no such command: {command}")
        if ctx.debug:
            import time

            started = time.perf_counter()
            ctx.log("debug", f"{command} {' '.join(rest)}")
        module = __import__(f"dockyard.cli.runtime.{command}", fromlist=["run"])
        code: int = module.run(ctx, rest)
        if ctx.debug:
            elapsed = (time.perf_counter() - started) * 1000
            ctx.log("debug", f"{command} finished with status {code} in {elapsed:.1f} ms")
        return code
    except HelpRequested as request:
        from dockyard.cli.runtime_help import command_help

        sys.stdout.write(command_help(request.command, request.flags))
        return 0
    except DockyardError as exc:
        ctx.error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # a system call the command did not expect to fail: still one line
        where = f" ({exc.filename})" if exc.filename else ""
        ctx.error(f"{exc.strerror or exc}{where}")
        return 1


if __name__ == "__main__":
    main()
